"""The analysis, written once: faces -> eyes -> upright eye crops -> pupils.

Video and photos differ only in how their faces are found. A video's come from the tracker
(``glare.faces.FaceTracker``: a scheduled, downscaled search, landmarks followed and smoothed in
between); a photo's from a search of the whole image at full resolution
(``FaceFinder.find``). Everything after the faces is ``locate_pupils``, which the engine,
``glare locate``, ``glare eval``, the bench, the labeller's prefill and the flat API all call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from glare.eyes import eyes_from_landmarks, upright_crop
from glare.faces import Face, FaceFinder
from glare.pupils import PupilLocator
from glare.results import EyeResult, FaceResult

ANALYSIS_STAGES = ("faces", "eyes", "pupils")


class Stopwatch:
    """Milliseconds per named stage, measured with ``with stopwatch("name"):``."""

    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[stage] = self.timings_ms.get(stage, 0.0) + (time.perf_counter() - start) * 1000.0


def locate_pupils(image: np.ndarray, faces: Sequence[Face], locator: PupilLocator,
                  stopwatch: Stopwatch | None = None) -> list[FaceResult]:
    """Each face's eyes (from its landmarks) and their pupils, in ``image``'s pixels.

    ``image`` is gray or BGR uint8. The eyes of every face go to the locator in one call, so a
    model runs once per image however many faces it holds.
    """
    stopwatch = stopwatch or Stopwatch()
    with stopwatch("eyes"):
        pairs = [eyes_from_landmarks(face.landmarks) for face in faces]
        crops = [upright_crop(image, eye, locator.geometry) for pair in pairs for eye in pair]
    with stopwatch("pupils"):
        pupils = locator.locate(crops) if crops else []
    return [FaceResult(face, EyeResult(right, pupils[2 * index]), EyeResult(left, pupils[2 * index + 1]))
            for index, (face, (right, left)) in enumerate(zip(faces, pairs))]


def analyse_photo(image: np.ndarray, finder: FaceFinder, locator: PupilLocator,
                  stopwatch: Stopwatch | None = None) -> list[FaceResult]:
    """Every face in a photo (gray or BGR uint8), searched at full resolution, and its pupils."""
    stopwatch = stopwatch or Stopwatch()
    with stopwatch("faces"):
        faces = finder.find(image)
    return locate_pupils(image, faces, locator, stopwatch)


def largest_face(faces: Sequence[Face]) -> Face | None:
    """The face with the largest box (the subject of a portrait), or None."""
    return max(faces, key=lambda face: (face.box[2] - face.box[0]) * (face.box[3] - face.box[1]), default=None)
