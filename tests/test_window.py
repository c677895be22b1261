"""Hotkeys in a real OpenCV window on a virtual X display (Xvfb), pressed with xdotool."""

import os
import shutil
import subprocess
import sys

import cv2
import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (Debian: apt-get install xvfb xdotool)",
)


@pytest.fixture()
def display():
    # -displayfd makes Xvfb pick a free display and print its number once it accepts clients.
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    number = server.stdout.readline().strip()
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def _xdotool(display, *args, timeout=60):
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=timeout, check=True).stdout.strip()


def test_hotkeys_drive_the_live_window(display, woman_video, tmp_path):
    recording = tmp_path / "hotkeys.mp4"
    env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
    app = subprocess.Popen([sys.executable, "-m", "glare.cli", "run", "--input", str(woman_video),
                            "--record", str(recording)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    seen = []

    def read_until(prefix):
        # OpenCV's window keeps only the last key pressed, so each key waits for the app to log the one before.
        for line in app.stdout:
            seen.append(line.rstrip())
            if line.startswith(prefix):
                return line.rstrip()
        raise AssertionError(f"the app ended before printing {prefix!r}: {seen}")

    try:
        window = _xdotool(display, "search", "--sync", "--name", "^glare$").splitlines()[0]
        _xdotool(display, "windowfocus", "--sync", window)
        steps = [("space", "hotkey: pause"), ("e", "effect: anxious"), ("d", "effect: debug"),
                 ("d", "effect: anxious"), ("m", "hotkey: toggle mirror"), ("f", "hotkey: toggle FPS"),
                 ("space", "hotkey: pause"), ("r", "recorded "), ("q", "hotkey: quit")]
        answers = []
        for key, answer in steps:
            _xdotool(display, "key", key)
            answers.append(read_until(answer))
        app.stdout.read()
        app.wait(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, seen
    frames = int(answers[7].split()[1])
    assert 0 < frames < 472
    capture = cv2.VideoCapture(str(recording))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == frames
    capture.release()
