"""How real the effect looks: figures over a clip and a contact sheet of the worst eyes.

Per moved eye (its iris displaced by at least its radius):

- ghost: how much darker than the sclera the vacated part of the old iris stays, as a share of
  the original iris-to-sclera contrast (0 is clean sclera, 1 is the old iris still there). The
  old iris is taken at its anatomical size (0.093 of the eye distance, or the drawn radius if
  larger), so a renderer cannot hide a ghost by underestimating the iris;
- iris kept: the moved iris's contrast against the sclera over the original's (1 keeps the dark
  iris and its rim, under 1 is washed out), and its texture's correlation with the original.

Per frame pair while the gaze holds still: flicker, the frame-to-frame change in the eye
regions of the output over that of the input (1 adds nothing). Per closed eye (openness under
``CLOSED_OPENNESS``): whether any of its pixels changed. And the render stage's milliseconds
per eye next to the analysis stages, from the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.capture import VideoFileSource
from glare.engine import Engine, EngineSettings
from glare.pipeline import ANALYSIS_STAGES
from glare.eyes import Eye, EyeShape
from glare.gaze import GazeSettings
from glare.iris import IRIS_RADIUS_PER_EYE_DISTANCE, LUMA_BGR, eye_distance_px
from glare.openness import CLOSED_OPENNESS
from glare.render import eye_region
from glare.results import FaceResult

SHEET_SCALE = 6
"""How much the contact sheet enlarges the eye crops."""


@dataclass(frozen=True)
class EyeFigures:
    clip: str
    frame: int
    side: str
    ghost: float | None
    contrast_kept: float | None
    texture_kept: float | None


@dataclass
class RenderReport:
    eyes: list[EyeFigures] = field(default_factory=list)
    flicker_pairs: list[tuple[str, int, float, float]] = field(default_factory=list)
    """(clip, frame, output change, input change) per held-gaze frame pair."""
    closed_eyes: int = 0
    closed_eyes_changed: list[tuple[str, int]] = field(default_factory=list)
    render_ms_per_eye: list[float] = field(default_factory=list)
    analysis_ms: list[float] = field(default_factory=list)
    render_ms: list[float] = field(default_factory=list)
    crops: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    """(clip, frame) -> enlarged input and output crops of the first face's eyes."""

    @property
    def ghosts(self) -> np.ndarray:
        return np.array([e.ghost for e in self.eyes if e.ghost is not None])

    @property
    def flicker_ratio(self) -> float:
        if not self.flicker_pairs:
            return float("nan")
        output = sum(pair[2] for pair in self.flicker_pairs)
        source = sum(pair[3] for pair in self.flicker_pairs)
        return output / max(source, 1e-9)


def _disc_mask(shape: tuple[int, int], centre: np.ndarray, radius: float) -> np.ndarray:
    ys, xs = np.ogrid[: shape[0], : shape[1]]
    return (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= radius * radius


def _opening_depth(eye: Eye, box: tuple[int, int, int, int]) -> np.ndarray:
    shape = EyeShape.of(eye)
    u, v = shape.grid(box)
    return shape.depth_inside(u, v)


def eye_figures(source: np.ndarray, output: np.ndarray, face: FaceResult, clip: str, frame: int) -> list[EyeFigures]:
    """Ghost and iris-kept figures for each eye of ``face`` whose iris moved by at least its radius."""
    anatomical = IRIS_RADIUS_PER_EYE_DISTANCE * eye_distance_px((face.right_eye.eye, face.left_eye.eye))
    figures = []
    for eye_result in face.eyes:
        move = eye_result.iris
        if move is None or not move.rendered:
            continue
        old, new = np.array(move.source), np.array(move.target)
        radius = max(anatomical, move.iris_radius_px)
        if np.linalg.norm(new - old) < radius:
            continue
        box = eye_region(eye_result.eye, source.shape)
        x0, y0, x1, y1 = box
        offset = np.array([x0, y0], np.float64)
        luma_in = source[y0:y1, x0:x1].astype(np.float32) @ LUMA_BGR
        luma_out = output[y0:y1, x0:x1].astype(np.float32) @ LUMA_BGR
        depth = _opening_depth(eye_result.eye, box)
        interior = depth > 1.5
        old_disc = _disc_mask(depth.shape, old - offset, radius)
        new_disc = _disc_mask(depth.shape, new - offset, radius + 1.0)
        vacated = interior & old_disc & ~new_disc
        sclera = interior & ~_disc_mask(depth.shape, old - offset, 1.3 * radius)
        ghost = contrast_kept = texture_kept = None
        if vacated.sum() >= 4 and sclera.sum() >= 4:
            sclera_level = float(np.median(luma_in[sclera]))
            contrast = sclera_level - float(luma_in[vacated].mean())
            if contrast > 15.0:
                ghost = float(np.clip((sclera_level - luma_out[vacated].mean()) / contrast, 0.0, 1.0))
        # The moved iris against the original, over the offsets from the centre visible at both places.
        shift = np.round(new - old).astype(int)
        inner_old = interior & _disc_mask(depth.shape, old - offset, 0.9 * radius)
        ys, xs = np.nonzero(inner_old)
        moved_ys, moved_xs = ys + shift[1], xs + shift[0]
        keep = (moved_ys >= 0) & (moved_ys < depth.shape[0]) & (moved_xs >= 0) & (moved_xs < depth.shape[1])
        ys, xs, moved_ys, moved_xs = ys[keep], xs[keep], moved_ys[keep], moved_xs[keep]
        both = interior[moved_ys, moved_xs]
        if both.sum() >= 8 and sclera.sum() >= 4:
            before, after = luma_in[ys[both], xs[both]], luma_out[moved_ys[both], moved_xs[both]]
            sclera_level = float(np.median(luma_in[sclera]))
            if sclera_level - before.mean() > 15.0:
                contrast_kept = float((sclera_level - after.mean()) / (sclera_level - before.mean()))
            if before.std() > 2.0 and after.std() > 0.5:
                texture_kept = float(np.corrcoef(before, after)[0, 1])
        figures.append(EyeFigures(clip, frame, eye_result.eye.side, ghost, contrast_kept, texture_kept))
    return figures


def _face_crop(image: np.ndarray, face: FaceResult) -> np.ndarray:
    points = np.concatenate([eye.eye.contour for eye in face.eyes])
    width = float(np.ptp(points[:, 0]))
    x0, y0 = np.floor(points.min(axis=0) - (0.12 * width, 0.15 * width)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + (0.12 * width, 0.15 * width)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    crop = image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    return cv2.resize(crop, None, fx=SHEET_SCALE, fy=SHEET_SCALE, interpolation=cv2.INTER_CUBIC)


def _region_change(previous: np.ndarray, current: np.ndarray, boxes: Sequence[tuple[int, int, int, int]]) -> float:
    return float(sum(np.abs(current[y0:y1, x0:x1].astype(np.int16) - previous[y0:y1, x0:x1]).sum()
                     for x0, y0, x1, y1 in boxes))


def evaluate_clip(video: Path, gaze: GazeSettings, report: RenderReport, engine_settings: EngineSettings | None = None,
                  max_frames: int | None = None) -> None:
    """Run the effect over ``video`` and add its figures (and crops of every frame's first face) to ``report``."""
    settings = engine_settings or EngineSettings()
    engine = Engine(EngineSettings(settings.analysis, gaze, settings.pupil_smoothing_hz, settings.iris_size_hold_s))
    clip = Path(video).name
    previous = None
    source = VideoFileSource(video)
    try:
        for captured in source.frames():
            if max_frames is not None and captured.index >= max_frames:
                break
            output, result = engine.process(captured.image, captured.time_s)
            if captured.index > 0:
                analysis = sum(result.timings_ms.get(stage, 0.0) for stage in ANALYSIS_STAGES)
                report.analysis_ms.append(analysis)
                report.render_ms.append(result.timings_ms.get("render", 0.0))
                drawn = sum(eye.iris is not None and eye.iris.rendered for face in result.faces for eye in face.eyes)
                if drawn:
                    report.render_ms_per_eye.append(result.timings_ms["render"] / drawn)
            for face in result.faces:
                report.eyes.extend(eye_figures(captured.image, output, face, clip, captured.index))
                for eye_result in face.eyes:
                    if eye_result.eye.openness < CLOSED_OPENNESS:
                        report.closed_eyes += 1
                        box = eye_region(eye_result.eye, captured.image.shape)
                        if box is not None:
                            x0, y0, x1, y1 = box
                            if np.any(output[y0:y1, x0:x1] != captured.image[y0:y1, x0:x1]):
                                report.closed_eyes_changed.append((clip, captured.index))
            holding = {face.face.track_id: face for face in result.faces
                       if face.gaze is not None and face.gaze.strength >= 1.0}
            if previous is not None and len(result.faces) == 1 and holding:
                (track_id, face), = holding.items()
                before = previous[2].get(track_id)
                if before is not None and np.allclose(before.gaze.offset, face.gaze.offset, atol=1e-3):
                    boxes = [box for eye in face.eyes if (box := eye_region(eye.eye, output.shape)) is not None]
                    report.flicker_pairs.append((clip, captured.index, _region_change(previous[1], output, boxes),
                                                 _region_change(previous[0], captured.image, boxes)))
            previous = (captured.image, output, holding)
            if result.faces:
                report.crops[(clip, captured.index)] = (_face_crop(captured.image, result.faces[0]),
                                                        _face_crop(output, result.faces[0]))
    finally:
        source.close()


def _label(image: np.ndarray, text: str) -> np.ndarray:
    labelled = image.copy()
    cv2.rectangle(labelled, (0, 0), (min(len(text) * 11 + 10, labelled.shape[1]), 24), (0, 0, 0), -1)
    cv2.putText(labelled, text, (5, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return labelled


def contact_sheet(report: RenderReport, picks: Sequence[tuple[str, str, int]], path: Path) -> None:
    """A PNG with one row per pick (label, clip, frame): the input eyes, then the output, enlarged."""
    rows = []
    for label, clip, frame in picks:
        crops = report.crops.get((clip, frame))
        if crops is None:
            continue
        before, after = crops
        height = max(before.shape[0], after.shape[0])
        gap = np.full((height, 8, 3), 255, np.uint8)
        pad = [cv2.copyMakeBorder(c, 0, height - c.shape[0], 0, 0, cv2.BORDER_CONSTANT) for c in (before, after)]
        rows.append(np.hstack([_label(pad[0], f"{clip} #{frame} input"), gap, _label(pad[1], f"{label}")]))
    if not rows:
        raise ValueError("nothing to put on the contact sheet: no frame with a face")
    width = max(row.shape[1] for row in rows)
    rows = [cv2.copyMakeBorder(row, 0, 8, 0, width - row.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
            for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.vstack(rows)):
        raise OSError(f"could not write the contact sheet to {path}")


def worst_picks(report: RenderReport, per_figure: int = 3) -> list[tuple[str, str, int]]:
    """The frames to show: the worst few by each figure, each frame once."""
    picks: list[tuple[str, str, int]] = []
    seen: set[tuple[str, int]] = set()

    def add(label: str, clip: str, frame: int) -> None:
        if (clip, frame) not in seen:
            seen.add((clip, frame))
            picks.append((label, clip, frame))

    ghosts = sorted((e for e in report.eyes if e.ghost is not None), key=lambda e: -e.ghost)
    for e in ghosts[:per_figure]:
        add(f"ghost {e.ghost:.2f} ({e.side} eye)", e.clip, e.frame)
    contrasts = sorted((e for e in report.eyes if e.contrast_kept is not None), key=lambda e: e.contrast_kept)
    for e in contrasts[:per_figure]:
        add(f"iris contrast kept {e.contrast_kept:.2f} ({e.side} eye)", e.clip, e.frame)
    flickers = sorted(report.flicker_pairs, key=lambda p: -p[2] / max(p[3], 1.0))
    for clip, frame, output, source in flickers[:per_figure]:
        add(f"flicker {output / max(source, 1.0):.2f}", clip, frame)
    for clip, frame in report.closed_eyes_changed[:per_figure]:
        add("closed eye changed", clip, frame)
    return picks


def format_report(report: RenderReport) -> str:
    ghosts = report.ghosts
    contrasts = np.array([e.contrast_kept for e in report.eyes if e.contrast_kept is not None])
    textures = np.array([e.texture_kept for e in report.eyes if e.texture_kept is not None])

    def median(values: np.ndarray) -> str:
        return f"{np.median(values):.2f}" if len(values) else "n/a"

    lines = [
        f"moved eyes: {len(report.eyes)} (iris moved by at least its radius)",
        f"ghost: median {median(ghosts)}, share above 0.35: "
        + (f"{np.mean(ghosts > 0.35):.1%}" if len(ghosts) else "n/a") + f" ({len(ghosts)} eyes with a vacated iris)",
        f"iris kept: contrast median {median(contrasts)}, texture correlation median {median(textures)}",
        f"flicker while the gaze holds: {report.flicker_ratio:.3f} (output change over input change, "
        f"{len(report.flicker_pairs)} frame pairs)",
        f"closed eyes changed: {len(report.closed_eyes_changed)} of {report.closed_eyes}",
    ]
    if report.render_ms:
        lines.append(f"render: {np.median(report.render_ms):.2f} ms a frame, "
                     f"{median(np.array(report.render_ms_per_eye))} ms an eye (median); "
                     f"analysis (faces, eyes, pupils): {np.median(report.analysis_ms):.2f} ms a frame")
    return "\n".join(lines)
