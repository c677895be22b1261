"""Shared fixtures: the real data folder (skipped with a reason where absent) and synthetic eyes."""

from __future__ import annotations

import select
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from glare.settings import shared_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    folder = shared_data_dir()
    if not (folder / "eye-centres.txt").is_file():
        pytest.skip(f"real data not found at {folder}: set GLARE_DATA to the shared data folder")
    return folder


@pytest.fixture()
def display():
    """A private virtual X display (Xvfb) for window tests."""
    # -displayfd makes Xvfb pick a free display and print its number once it accepts clients.
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # Xvfb prints the number once it is ready; a server that never gets there fails the test, not the run.
    ready, _, _ = select.select([server.stdout], [], [], 30.0)
    if not ready:
        server.kill()
        raise AssertionError("Xvfb did not start within 30 s")
    number = server.stdout.readline().strip()
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def woman_video(data_dir: Path) -> Path:
    return data_dir / "video" / "woman_expressions.mp4"


def synthetic_eye_frame(
    iris_centre: tuple[float, float],
    eye_centre: tuple[float, float] = (100.0, 60.0),
    eye_half_width: float = 30.0,
    eye_half_height: float = 11.0,
    iris_radius: float = 9.0,
    roll_deg: float = 0.0,
    size: tuple[int, int] = (200, 120),
    light_iris: bool = False,
    catchlight: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A BGR frame of skin with one almond eye (white sclera, dark iris and pupil) and its six landmarks.

    The iris is drawn at ``iris_centre`` (sub-pixel, through 8x supersampling), clipped by the lids. A
    ``light_iris`` is brighter than halfway from pupil to sclera inside a dark limbal ring (a fifth of its
    radius); a ``catchlight`` is a bright speck on the pupil, right of its middle.
    Returns the frame and the (6, 2) landmarks in dlib's order.
    """
    width, height = size
    supersample = 8
    big = np.full((height * supersample, width * supersample), 170, np.uint8)
    angle = np.deg2rad(roll_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    outline = np.stack([eye_half_width * np.cos(t), eye_half_height * np.sin(t)], axis=1) @ rotation.T + eye_centre
    opening = np.zeros_like(big)
    cv2.fillPoly(opening, [np.round(outline * supersample).astype(np.int32)], 255)
    iris = np.zeros_like(big)
    centre_big = tuple(int(round(v * supersample)) for v in iris_centre)
    cv2.circle(iris, centre_big, int(round(iris_radius * supersample)), 255, -1)
    pupil = np.zeros_like(big)
    cv2.circle(pupil, centre_big, int(round(iris_radius * 0.45 * supersample)), 255, -1)
    big[opening > 0] = 225
    big[(opening > 0) & (iris > 0)] = 85
    if light_iris:
        middle = cv2.circle(np.zeros_like(big), centre_big, int(round(iris_radius * 0.8 * supersample)), 255, -1)
        big[(opening > 0) & (middle > 0)] = 165
    big[(opening > 0) & (pupil > 0)] = 25
    if catchlight:
        speck = (centre_big[0] + int(round(iris_radius * 0.3 * supersample)), centre_big[1])
        big[(opening > 0) & (cv2.circle(np.zeros_like(big), speck, int(1.2 * supersample), 255, -1) > 0)] = 245
    gray = cv2.resize(big, size, interpolation=cv2.INTER_AREA)
    angles = np.deg2rad([180, 240, 300, 0, 60, 120])
    landmarks = np.stack([eye_half_width * np.cos(angles), eye_half_height * np.sin(angles)], axis=1)
    landmarks = landmarks @ rotation.T + eye_centre
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), landmarks


def covered(image: np.ndarray, box, margin: int = 40) -> np.ndarray:
    """A copy of ``image`` with ``box`` (x0, y0, x1, y1) and ``margin`` pixels round it painted flat gray: a
    face there is hidden from HOG (its landmarks still fit somewhere)."""
    left, top, right, bottom = (int(v) for v in box)
    hidden = image.copy()
    hidden[max(top - margin, 0):bottom + margin, max(left - margin, 0):right + margin] = 128
    return hidden
