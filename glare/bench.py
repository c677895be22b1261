"""Per-stage timings of glare's analysis against the naive loop, over the same frames in one run.

The naive loop is the tutorial's: dlib HOG with one upsampling on every full frame, then the
68 landmarks, then the same eye crops and pupil locator. Decoding is left out of both, and so is
the first frame (it pays for lazy initialisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.capture import VideoFileSource
from glare.engine import ANALYSIS_STAGES, AnalysisSettings, FaceAnalyser, Stopwatch
from glare.eyes import eyes_from_landmarks, upright_crop
from glare.faces import FaceFinder
from glare.pupils import PupilLocator


@dataclass
class Timings:
    """Milliseconds per stage, one list entry per frame."""

    per_stage: dict[str, list[float]] = field(default_factory=dict)
    faces_found: int = 0

    def add(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.per_stage.setdefault(stage, []).append(ms)

    def per_frame(self, stages: Sequence[str]) -> np.ndarray:
        return np.sum([self.per_stage[s] for s in stages], axis=0)


@dataclass
class BenchReport:
    video: str
    frame_size: tuple[int, int]
    frames: int
    locator: str
    glare: Timings
    naive: Timings

    @property
    def speedup(self) -> float:
        return float(np.median(self.naive.per_frame(ANALYSIS_STAGES)) / np.median(self.glare.per_frame(ANALYSIS_STAGES)))


def naive_analysis(frame: np.ndarray, finder: FaceFinder, locator: PupilLocator, stopwatch: Stopwatch) -> int:
    """The tutorial's loop on one frame; returns how many faces it found."""
    with stopwatch("faces"):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        landmarks = [finder.landmarks(gray, box) for box in finder.detect(gray, upsample=1)]
    with stopwatch("eyes"):
        crops = [[upright_crop(frame, eye, locator.geometry) for eye in eyes_from_landmarks(points)] for points in landmarks]
    with stopwatch("pupils"):
        for face_crops in crops:
            locator.locate(face_crops)
    return len(landmarks)


def _time_loop(video: Path, max_frames: int | None, analyse) -> tuple[Timings, tuple[int, int]]:
    """Times ``analyse(frame, time_s, stopwatch) -> faces found`` over the video's frames."""
    timings = Timings()
    frame_size = (0, 0)
    source = VideoFileSource(video)
    try:
        for captured in source.frames():
            if max_frames is not None and captured.index >= max_frames:
                break
            frame_size = captured.image.shape[1], captured.image.shape[0]
            stopwatch = Stopwatch()
            faces_found = analyse(captured.image, captured.time_s, stopwatch)
            if captured.index > 0:
                timings.add(stopwatch.timings_ms)
                timings.faces_found += faces_found
    finally:
        source.close()
    if not timings.per_stage:
        raise ValueError(f"{video} has fewer than two frames: nothing to time")
    return timings, frame_size


def run_bench(video: Path, settings: AnalysisSettings | None = None, max_frames: int | None = None,
              skip_naive: bool = False) -> BenchReport:
    """Glare's analysis, then the naive loop, each over the whole video (in separate passes, so
    that neither evicts the other's caches between frames)."""
    analyser = FaceAnalyser(settings)
    glare_timings, frame_size = _time_loop(
        video, max_frames, lambda frame, time_s, watch: len(analyser.analyse(frame, time_s, watch).faces)
    )
    naive_timings = Timings()
    if not skip_naive:
        finder = FaceFinder()
        naive_timings, _ = _time_loop(
            video, max_frames, lambda frame, _time, watch: naive_analysis(frame, finder, analyser.locator, watch)
        )
    frames = len(glare_timings.per_stage["faces"])
    return BenchReport(str(video), frame_size, frames, analyser.locator.name, glare_timings, naive_timings)


def format_report(report: BenchReport) -> str:
    width, height = report.frame_size
    lines = [
        f"{report.video}: {report.frames} frames of {width}x{height} (first frame left out), pupil locator: {report.locator}",
        f"{'stage':<22}{'glare median':>14}{'p95':>9}{'naive median':>15}{'p95':>9}",
    ]
    rows = [(stage, [stage]) for stage in ANALYSIS_STAGES] + [("per frame (all three)", list(ANALYSIS_STAGES))]
    for label, stages in rows:
        glare = report.glare.per_frame(stages)
        line = f"{label:<22}{np.median(glare):>11.2f} ms{np.percentile(glare, 95):>6.2f} ms"
        if report.naive.per_stage:
            naive = report.naive.per_frame(stages)
            line += f"{np.median(naive):>12.2f} ms{np.percentile(naive, 95):>6.2f} ms"
        lines.append(line)
    if report.naive.per_stage:
        lines.append(f"faces found: glare {report.glare.faces_found}, naive {report.naive.faces_found}")
        lines.append(f"glare is {report.speedup:.1f}x faster than the naive loop (median per frame)")
    else:
        lines.append(f"faces found: {report.glare.faces_found}")
    return "\n".join(lines)
