"""Hotkeys in a real OpenCV window on a virtual X display (Xvfb), pressed with xdotool."""

import os
import subprocess
import sys

import cv2

from xvfb import AppLog, needs_xvfb, xdotool

pytestmark = needs_xvfb


def test_hotkeys_drive_the_live_window(display, woman_video, tmp_path):
    recording = tmp_path / "hotkeys.mp4"
    env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
    app = subprocess.Popen([sys.executable, "-m", "glare.cli", "run", "--input", str(woman_video),
                            "--record", str(recording)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    log = AppLog(app)

    try:
        window = xdotool(display, "search", "--sync", "--name", "^glare$").splitlines()[0]
        xdotool(display, "windowfocus", "--sync", window)
        steps = [("space", "hotkey: pause"), ("e", "effect: anxious"), ("d", "debug overlay: on"),
                 ("d", "debug overlay: off"), ("m", "hotkey: toggle mirror"), ("f", "hotkey: toggle FPS"),
                 ("space", "hotkey: pause"), ("r", "recorded "), ("q", "hotkey: quit")]
        answers = []
        # OpenCV's window keeps only the last key pressed, so each key waits for the app to log the one before.
        for key, answer in steps:
            xdotool(display, "key", key)
            answers.append(log.wait_for(answer))
            if len(answers) == 1:
                # Frames have been shown by now: the preview is at the video's size (640x360), with no
                # toolbar above the picture.
                geometry = xdotool(display, "getwindowgeometry", window).split("Geometry:")[1].split()[0]
        log.wait_for_exit()
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, log.seen
    assert tuple(int(n) for n in geometry.split("x")) == (640, 360), geometry
    frames = int(answers[7].split()[1])
    assert 0 < frames < 472
    capture = cv2.VideoCapture(str(recording))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == frames
    capture.release()
