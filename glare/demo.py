"""The demo: glare on an embedded clip, so it runs on any machine, webcam or not.

The clip is made from a public-domain portrait that ships inside the package (astronaut Eileen
Collins, NASA, as scikit-image distributes it), with a slow hand-held sway and zoom so the
face tracker and the effect work as they would on a live camera.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from glare.runner import RunSettings, RunSummary, Session
from glare.sinks import display_available

DEMO_FPS = 30.0


def portrait() -> np.ndarray:
    with resources.as_file(resources.files("glare") / "assets" / "astronaut.jpg") as path:
        image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError("the demo portrait is missing from the package: reinstall glare")
    return image


def demo_frames(seconds: float = 4.0, size: tuple[int, int] = (480, 480)) -> Iterator[tuple[np.ndarray, float]]:
    """(frame, time in seconds) of a hand-held-looking clip of the portrait."""
    image = portrait()
    centre = np.array([image.shape[1] / 2.0, image.shape[0] / 2.0])
    for index in range(int(seconds * DEMO_FPS)):
        t = index / DEMO_FPS
        sway = np.array([6.0 * np.sin(2 * np.pi * 0.23 * t), 4.0 * np.sin(2 * np.pi * 0.31 * t + 1.0)])
        zoom = 1.0 + 0.03 * np.sin(2 * np.pi * 0.17 * t)
        angle = 1.5 * np.sin(2 * np.pi * 0.19 * t)
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, zoom)
        matrix[:, 2] += np.array(size) / 2.0 - centre + sway
        yield cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT), t


@dataclass(frozen=True)
class DemoOutput:
    clip: Path
    before_after: Path
    summary: RunSummary


def run_demo(out_dir: Path, window: bool | None = None, effect: str = "glare", log=print) -> DemoOutput:
    """Write the effect clip and a before/after picture to ``out_dir``; show a window when a display exists."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = out_dir / "glare-demo.mp4"
    show = display_available() if window is None else window
    settings = RunSettings(effect=effect, direction="alternate", record=str(clip), window=show, show_fps=True,
                           overwrite=True)
    session = Session(settings, log, fps=DEMO_FPS)
    # A moment when the glare has settled on one side, for the picture.
    picture_at = int(1.2 * DEMO_FPS)
    before_after = out_dir / "glare-demo-before-after.png"
    try:
        for index, (frame, t) in enumerate(demo_frames()):
            if not session.step(frame, t):
                break
            if index == picture_at:
                cv2.imwrite(str(before_after), np.hstack([frame, session.last_output]))
    finally:
        session.close()
    log(session.summary.describe())
    log(f"before/after picture: {before_after}")
    return DemoOutput(clip, before_after, session.summary)
