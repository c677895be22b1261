"""Per-stage timings of glare's analysis against the naive loop, over the same frames in one run.

The naive loop is the tutorial's: dlib HOG with one upsampling on every full frame, then the
68 landmarks, then the same eye crops and pupil locator. Decoding is left out of both, and so is
the first frame (it pays for lazy initialisation).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.capture import CapturedFrame, VideoFileSource
from glare.engine import AnalysisSettings, Engine, EngineSettings, FaceAnalyser
from glare.faces import FaceFinder
from glare.pipeline import ANALYSIS_STAGES, Stopwatch, analyse_photo
from glare.gaze import GazeSettings
from glare.pupils import PupilLocator


@dataclass(frozen=True)
class FrameLayout:
    """How the clip's frames are laid out before timing, to see how the cost grows: upscaled to ``size``
    (width, height), and tiled ``mosaic`` x ``mosaic`` (four faces at 2). The resizing is not timed."""

    size: tuple[int, int] | None = None
    mosaic: int = 1

    def apply(self, image: np.ndarray) -> np.ndarray:
        if self.mosaic > 1:
            image = np.tile(image, (self.mosaic, self.mosaic, 1))
        if self.size is not None and (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_CUBIC)
        return image


def _frames(video: Path, max_frames: int | None, layout: FrameLayout) -> Iterator[CapturedFrame]:
    source = VideoFileSource(video)
    try:
        for captured in source.frames():
            if max_frames is not None and captured.index >= max_frames:
                return
            yield CapturedFrame(layout.apply(captured.image), captured.time_s, captured.index)
    finally:
        source.close()


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
    effects: dict[str, Timings] = field(default_factory=dict)
    """The whole engine per effect (analysis, gaze, render), each over the same frames, in turn."""

    @property
    def speedup(self) -> float:
        return float(np.median(self.naive.per_frame(ANALYSIS_STAGES)) / np.median(self.glare.per_frame(ANALYSIS_STAGES)))


def naive_analysis(frame: np.ndarray, finder: FaceFinder, locator: PupilLocator, stopwatch: Stopwatch) -> int:
    """The tutorial's loop on one frame (every frame searched whole, as a photo is); returns how many faces it found."""
    return len(analyse_photo(frame, finder, locator, stopwatch))


def _nothing_to_time(video: Path) -> ValueError:
    return ValueError(f"{video} has fewer than two frames (or --frames is under 2): nothing to time")


def _time_loop(video: Path, max_frames: int | None, layout: FrameLayout, analyse) -> tuple[Timings, tuple[int, int]]:
    """Times ``analyse(frame, time_s, stopwatch) -> faces found`` over the video's frames."""
    timings = Timings()
    frame_size = (0, 0)
    for captured in _frames(video, max_frames, layout):
        frame_size = captured.image.shape[1], captured.image.shape[0]
        stopwatch = Stopwatch()
        faces_found = analyse(captured.image, captured.time_s, stopwatch)
        if captured.index > 0:
            timings.add(stopwatch.timings_ms)
            timings.faces_found += faces_found
    if not timings.per_stage:
        raise _nothing_to_time(video)
    return timings, frame_size


def _time_effects(video: Path, settings: AnalysisSettings | None, effects: Sequence[str],
                  max_frames: int | None, layout: FrameLayout) -> dict[str, Timings]:
    """The whole engine (analysis, gaze, render) per stage, one engine per effect, all on each frame in
    turn (the order rotating from frame to frame): a ratio between effects is then taken under the
    same conditions, where separate passes drifted apart by up to half the analysis's cost."""
    analysis = settings or AnalysisSettings()
    # One landmark model and one eye model for all the engines, as in a program that runs one engine:
    # a copy each would evict each other's from the cache, and the predictor's 99 MB read slower.
    first = Engine(EngineSettings(analysis=analysis, gaze=GazeSettings(effect=effects[0])))
    engines = {effect: Engine(EngineSettings(analysis=analysis, gaze=GazeSettings(effect=effect)),
                              first.analyser.locator, first.analyser.tracker.finder) if index else first
               for index, effect in enumerate(effects)}
    timings = {effect: Timings() for effect in effects}
    for captured in _frames(video, max_frames, layout):
        turn = captured.index % len(effects)
        for effect in [*effects[turn:], *effects[:turn]]:
            # Drawn in place as the live loop does, on a copy each (made before the engine's clock starts).
            _, result = engines[effect].process(captured.image.copy(), captured.time_s, in_place=True)
            if captured.index > 0:
                timings[effect].add(result.timings_ms)
                timings[effect].faces_found += len(result.faces)
    if not timings[effects[0]].per_stage:
        raise _nothing_to_time(video)
    return timings


EFFECT_STAGES = (*ANALYSIS_STAGES, "gaze", "render")


def run_bench(video: Path, settings: AnalysisSettings | None = None, max_frames: int | None = None,
              skip_naive: bool = False, effects: Sequence[str] = ("none", "glare"),
              layout: FrameLayout = FrameLayout()) -> BenchReport:
    """Glare's analysis and the naive loop, each over the whole video in a pass of its own (so that neither
    evicts the other's caches between frames), then the whole engine for each of ``effects``, in turn on
    each frame."""
    analyser = FaceAnalyser(settings)
    glare_timings, frame_size = _time_loop(
        video, max_frames, layout, lambda frame, time_s, watch: len(analyser.analyse(frame, time_s, watch).faces)
    )
    naive_timings = Timings()
    if not skip_naive:
        finder = FaceFinder(cnn_fallback=False)  # the tutorial's loop: HOG only
        naive_timings, _ = _time_loop(
            video, max_frames, layout, lambda frame, _time, watch: naive_analysis(frame, finder, analyser.locator, watch)
        )
    frames = len(glare_timings.per_stage["faces"])
    timed_effects = _time_effects(video, settings, effects, max_frames, layout) if effects else {}
    return BenchReport(str(video), frame_size, frames, analyser.locator.name, glare_timings, naive_timings, timed_effects)


@dataclass(frozen=True)
class LayoutComparison:
    """The whole effect at the clip's own layout and at a larger one, over the same frames, in passes taken in
    turn: per round, the median ms a frame of each."""

    effect: str
    own: str
    larger: str
    rounds: list[tuple[float, float]]
    """(own layout's median, larger layout's median) per round."""
    stages: list[tuple[dict[str, float], dict[str, float]]]
    """Per round, each layout's median ms a frame per stage (where the difference goes)."""

    @property
    def ratios(self) -> list[float]:
        return [larger / own for own, larger in self.rounds]

    @property
    def ratio(self) -> float:
        """The rounds' middle ratio: a round's two passes run a few seconds apart, on the same machine state."""
        return float(np.median(self.ratios))


def _layout_name(video: Path, layout: FrameLayout) -> str:
    """The layout as a reader would name it: its frame size, and the mosaic if any."""
    frame = next(_frames(video, 1, layout)).image
    size = f"{frame.shape[1]}x{frame.shape[0]}"
    return f"{size} ({layout.mosaic}x{layout.mosaic} mosaic)" if layout.mosaic > 1 else size


def compare_layouts(video: Path, larger: FrameLayout, rounds: int, settings: AnalysisSettings | None = None,
                    effect: str = "glare", max_frames: int | None = None) -> LayoutComparison:
    """How much more the whole effect costs a frame at ``larger`` (upscaled, or tiled into a mosaic) than at the
    clip's own layout: ``rounds`` rounds of one pass each, each pass a fresh engine over the clip as the bench
    times it, which of the two goes first alternating from round to round.

    On a shared machine the same pass's median moves by half within minutes: two separate runs of the bench
    compared its slow spells as much as the layouts. Passes taken in turn, a few seconds apart, share them, and
    each pass stays whole (interleaving the layouts frame by frame would evict each other's caches and run two
    engines' searches at once, neither of which happens in use)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    own = FrameLayout()
    medians, stages = [], []
    for round_index in range(rounds):
        order = (own, larger) if round_index % 2 == 0 else (larger, own)
        timed = {layout: _time_effects(video, settings, (effect,), max_frames, layout)[effect] for layout in order}
        medians.append(tuple(float(np.median(timed[layout].per_frame(EFFECT_STAGES))) for layout in (own, larger)))
        stages.append(tuple({stage: float(np.median(timed[layout].per_stage[stage])) for stage in EFFECT_STAGES}
                            for layout in (own, larger)))
    return LayoutComparison(effect, _layout_name(video, own), _layout_name(video, larger), medians, stages)


def format_comparison(comparison: LayoutComparison) -> str:
    lines = [f"the whole {comparison.effect} effect, median ms a frame, one pass of each layout a round, in turn:",
             f"{'round':<8}{comparison.own:>24}{comparison.larger:>28}{'ratio':>8}"]
    for index, ((own, larger), ratio) in enumerate(zip(comparison.rounds, comparison.ratios), 1):
        lines.append(f"{index:<8}{own:>24.2f}{larger:>28.2f}{ratio:>8.2f}")
    lines.append(f"{comparison.larger} costs {comparison.ratio:.2f}x {comparison.own} (the rounds' median ratio; "
                 f"{min(comparison.ratios):.2f}-{max(comparison.ratios):.2f})")
    lines.append("per stage, the median over the rounds of each pass's median:")
    for stage in EFFECT_STAGES:
        own, larger = (float(np.median([round_stages[side][stage] for round_stages in comparison.stages]))
                       for side in (0, 1))
        lines.append(f"{stage:<8}{own:>24.2f}{larger:>28.2f}")
    return "\n".join(lines)


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
    if report.effects:
        lines.append("")
        lines.append("the whole effect, per stage (ms a frame, median / p95 / max):")
        lines.append(f"{'stage':<10}" + "".join(f"{effect:>24}" for effect in report.effects))
        for stage in (*EFFECT_STAGES, "all"):
            cells = []
            for timings in report.effects.values():
                values = timings.per_frame(EFFECT_STAGES if stage == "all" else [stage])
                cells.append(f"{np.median(values):>10.2f}{np.percentile(values, 95):>7.2f}{values.max():>7.2f}")
            lines.append(f"{stage:<10}" + "".join(cells))
        if "none" in report.effects:
            baseline = np.median(report.effects["none"].per_frame(EFFECT_STAGES))
            for effect, timings in report.effects.items():
                if effect != "none":
                    ratio = np.median(timings.per_frame(EFFECT_STAGES)) / baseline
                    lines.append(f"{effect} costs {ratio:.2f}x the analysis alone (effect none), median per frame")
    return "\n".join(lines)
