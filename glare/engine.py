"""The engine: one object, configured once, ``process(frame)`` per frame, a typed result.

It wires the stages in the frame's order (faces -> eyes -> pupils -> gaze -> render) and times
each one, so that the benchmark and the debug overlay can say where the milliseconds go.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from glare.eyes import Eye, eyes_from_landmarks, upright_crop
from glare.faces import Face, FaceTracker, TrackerSettings
from glare.pupils import DEFAULT_LOCATOR, Pupil, PupilLocator, make_locator

ANALYSIS_STAGES = ("faces", "eyes", "pupils")


@dataclass(frozen=True)
class EyeResult:
    eye: Eye
    pupil: Pupil


@dataclass(frozen=True)
class FaceResult:
    face: Face
    right_eye: EyeResult
    left_eye: EyeResult

    @property
    def eyes(self) -> tuple[EyeResult, EyeResult]:
        return self.right_eye, self.left_eye


@dataclass
class FrameResult:
    index: int
    time_s: float
    faces: list[FaceResult]
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Milliseconds per stage for this frame, in the frame's order."""

    @property
    def total_ms(self) -> float:
        return sum(self.timings_ms.values())


def validate_frame(frame: np.ndarray) -> None:
    """Frames are BGR uint8 (H, W, 3) end to end; anything else is refused with what was expected."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{type(frame).__name__}" if not isinstance(frame, np.ndarray) else f"{frame.dtype} {frame.shape}"
        raise ValueError(f"expected a BGR uint8 frame of shape (H, W, 3), got {got}; convert with cv2.cvtColor first")


@dataclass
class AnalysisSettings:
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    locator: str = DEFAULT_LOCATOR


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


class FaceAnalyser:
    """Faces, eyes and pupils of each frame of a live video (the first three stages)."""

    def __init__(self, settings: AnalysisSettings | None = None, locator: PupilLocator | None = None):
        self.settings = settings or AnalysisSettings()
        self.tracker = FaceTracker(self.settings.tracker)
        self.locator = locator or make_locator(self.settings.locator)
        self._index = 0

    def analyse(self, frame: np.ndarray, time_s: float, stopwatch: Stopwatch) -> FrameResult:
        with stopwatch("faces"):
            faces = self.tracker.update(frame, time_s)
        with stopwatch("eyes"):
            eye_pairs = [eyes_from_landmarks(face.landmarks) for face in faces]
            crops = [[upright_crop(frame, eye, self.locator.geometry) for eye in pair] for pair in eye_pairs]
        with stopwatch("pupils"):
            results = []
            for face, pair, face_crops in zip(faces, eye_pairs, crops):
                right, left = self.locator.locate(face_crops)
                results.append(FaceResult(face, EyeResult(pair[0], right), EyeResult(pair[1], left)))
        result = FrameResult(self._index, time_s, results, stopwatch.timings_ms)
        self._index += 1
        return result
