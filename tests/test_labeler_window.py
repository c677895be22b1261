"""glare-label's real window under Xvfb, driven by xdotool clicks and keys; and killed mid-session."""

import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from glare.labeler.window import fit_zoom
from xvfb import AppLog, needs_xvfb, xdotool

pytestmark = needs_xvfb

CROP_SIZE = (64, 40)


@pytest.fixture()
def crops(tmp_path):
    folder = tmp_path / "crops"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"eye_{index}.png"), np.full((CROP_SIZE[1], CROP_SIZE[0]), 90 + 40 * index, np.uint8))
    (folder / "broken.png").write_bytes(b"not a png")
    return folder


def _start(display, folder, first_shown="showing image 2/4: eye_0.png"):
    env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
    app = subprocess.Popen([sys.executable, "-m", "glare.labeler.cli", str(folder), "--points", "pupil", "--predict", "none"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    log = AppLog(app)
    log.wait_for("labelling ")
    log.wait_for(first_shown)
    window = xdotool(display, "search", "--sync", "--name", "^glare-label$").splitlines()[0]
    xdotool(display, "windowfocus", "--sync", window)
    return app, log, window


def _click(display, window, log, xy):
    """Click image pixel ``xy`` and wait for the tool to log the point it set."""
    zoom = fit_zoom(*CROP_SIZE)
    u, v = (round((c + 0.5) * zoom - 0.5) for c in xy)
    xdotool(display, "mousemove", "--window", window, str(u), str(v), "click", "1")
    line = log.wait_for("point pupil = ")
    x, y = (float(v) for v in line.split("(")[1].split(")")[0].split(","))
    return x, y


def _key(display, log, key, answer):
    # OpenCV's window keeps only the last key pressed, so each key waits for the tool to log the one before.
    xdotool(display, "key", key)
    return log.wait_for(answer)


def test_clicks_and_keys_write_the_label_file(display, crops):
    app, log, window = _start(display, crops)
    try:
        first = _click(display, window, log, (20, 15))
        _key(display, log, "Return", "confirmed eye_0.png (1 of 3)")
        log.wait_for("showing image 3/4: eye_1.png")
        _click(display, window, log, (40, 30))
        _key(display, log, "u", "undo on eye_1.png")
        second = _click(display, window, log, (33, 12))
        _key(display, log, "v", "eye_1.png (not confirmed): pupil=(")
        _key(display, log, "Return", "confirmed eye_1.png (2 of 3)")
        _key(display, log, "p", "image 3/4: eye_1.png")
        _key(display, log, "Escape", "quit")
        summary = log.wait_for("2 of 3 images confirmed")
        app.wait(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, log.seen
    assert "1 unreadable images skipped" in summary
    assert any("skipping unreadable image" in line for line in log.seen)
    document = json.loads((crops / "labels.json").read_text())
    assert document["format"] == "glare-labels" and document["point_set"] == "pupil"
    images = document["images"]
    assert set(images) == {"eye_0.png", "eye_1.png"}
    for key, expected, clicked in (("eye_0.png", (20, 15), first), ("eye_1.png", (33, 12), second)):
        point = images[key]["points"]["pupil"]
        assert images[key]["confirmed"] and point["source"] == "hand"
        assert point["xy"] == pytest.approx(list(clicked), abs=0.06)  # the log rounds to 0.1
        assert point["xy"] == pytest.approx(list(expected), abs=0.5)


def test_killing_the_tool_keeps_every_confirmed_label(display, crops):
    app, log, window = _start(display, crops)
    try:
        clicked = [_click(display, window, log, (10, 10))]
        _key(display, log, "Return", "confirmed eye_0.png (1 of 3)")
        log.wait_for("showing image 3/4")
        clicked.append(_click(display, window, log, (25, 20)))
        _key(display, log, "Return", "confirmed eye_1.png (2 of 3)")
        log.wait_for("showing image 4/4")
        _click(display, window, log, (50, 30))  # unconfirmed work on the third image
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    images = json.loads((crops / "labels.json").read_text())["images"]
    confirmed = {key: entry["points"]["pupil"]["xy"] for key, entry in images.items() if entry["confirmed"]}
    assert confirmed == {"eye_0.png": pytest.approx(list(clicked[0]), abs=0.06),
                         "eye_1.png": pytest.approx(list(clicked[1]), abs=0.06)}
    assert images["eye_2.png"]["confirmed"] is False
    assert not list(crops.glob(".labels.json.*.tmp"))

    # Started again, it resumes at the first unconfirmed image and keeps the file as it was.
    before = (crops / "labels.json").read_text()
    app, log, window = _start(display, crops, first_shown="showing image 4/4: eye_2.png")
    try:
        assert "(2 confirmed)" in log.seen[0]
        assert [line for line in log.seen if line.startswith("showing")] == ["showing image 4/4: eye_2.png"]
        _key(display, log, "Escape", "quit")
        app.wait(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    assert (crops / "labels.json").read_text() == before
