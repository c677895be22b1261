"""Render: redraw each eye from a small model of an eye, as if it had turned.

Each eye is described in its own upright frame: u runs along the corner-to-corner axis (-1 and
+1 at the corners), v across it, in pixels, downwards. The lids are cubics through dlib's lid
points that meet at the corners, so the opening, and where the lids cover the iris, are known
in closed form at any point: no polygons to fill, no fits per frame. Inside the opening only:

- sclera layer: where the old iris was, a smooth colour field fitted to the visible sclera
  (quadratic along the eye and across it, from lid to lid), darkened under the upper lid as much
  as the opening beside the hole is there (lid and lash shade), plus the real sclera's difference
  from it at the hole's edges, carried across, so that the fill keeps the shade under the lid
  and meets the real sclera without a seam;
- iris layer: the whole iris, limbal ring included, moved to its target and clipped by the lids
  with soft edges. What the lids hid at the source is completed in polar terms: from the same
  radius at the angle mirrored across the eye's axis where that shows, else from the mean of
  the visible angles at that radius;
- catchlight: the corneal reflection stays where the light puts it; it is pulled along only as
  far as it takes to stay on the moved iris.

Every soft edge grows with the eye (``edge_scale``), so a 1080p eye is drawn as a 360p one is.
An optional squint lowers the upper lid. Pixels outside each eye's region never change, and a
face's eyes are redrawn together or not at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import cv2
import numpy as np

from glare.eyes import Eye, EyeNumbers, EyeShape
from glare.gaze import Gaze
from glare.iris import fit_iris
from glare.render_kernels import IrisPath, eye_layers, redraw_eye, squint_maps

MIN_EYE_WIDTH_PX = 10.0
"""Eyes narrower than this are too small to redraw."""
IRIS_ROOM_TUCK = 0.5
"""How much of its radius the iris may tuck under a corner at full intensity."""
Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in frame pixels, the ends exclusive."""
TWO_THREADS_MIN_PX = 5000
"""A face whose eyes' redraw boxes both have at least this many pixels has its eyes drawn on two threads, one
eye each (the compiled loops and OpenCV let go of Python's lock). A 1080p webcam face's eyes (about 10,000 px:
0.45 ms each with the squint) are drawn in two thirds of the time; at 720p (about 4,000) the two threads
gain nothing, and at 640x360 (about 1,200) they cost 0.06 ms more than they save."""
_Result = TypeVar("_Result")


def iris_target(eye: Eye, shape: EyeShape, source: np.ndarray, iris_radius_px: float, gaze: Gaze) -> np.ndarray:
    """Where the iris centre goes for ``gaze``: along the eye's axis (``shape``'s frame) by a share of its
    room, keeping the pupil's own height, blended from the real position by the gaze's strength."""
    # In plain floats: NumPy's per-call overhead on two-element vectors was most of the cost.
    (middle_x, middle_y), (along_x, along_y), (across_x, across_y) = (
        shape.origin.tolist(), shape.along.tolist(), shape.across.tolist())
    room = max(shape.half_width - IRIS_ROOM_TUCK * iris_radius_px, 0.0)
    half_height = eye.openness * shape.half_width
    source_x, source_y = float(source[0]), float(source[1])
    height = (source_x - middle_x) * across_x + (source_y - middle_y) * across_y + gaze.offset[1] * 0.5 * half_height
    goal_x = middle_x + along_x * (gaze.offset[0] * room) + across_x * height
    goal_y = middle_y + along_y * (gaze.offset[0] * room) + across_y * height
    return np.array([source_x + gaze.strength * (goal_x - source_x), source_y + gaze.strength * (goal_y - source_y)])


def eye_region(eye: Eye, frame_shape: tuple[int, ...]) -> Box | None:
    """The rectangle (x0, y0, x1, y1) the renderer may touch for this eye (squint included), clipped to the frame."""
    margin_x, margin_y = 0.2 * eye.width_px, 0.45 * eye.width_px
    return _clipped_box(eye, margin_x, margin_y, frame_shape)


def _clipped_box(eye: Eye, margin_x: float, margin_y: float, frame_shape: tuple[int, ...]) -> Box | None:
    """The eye's landmarks' bounding box grown by the margins, clipped to the frame (None if under 3x3 pixels)."""
    (low_x, low_y), (high_x, high_y) = eye.bounds
    box = (math.floor(low_x - margin_x), math.floor(low_y - margin_y),
           math.ceil(high_x + margin_x) + 1, math.ceil(high_y + margin_y) + 1)
    return _intersection(box, (0, 0, frame_shape[1], frame_shape[0]))


def opening_box(shape: EyeShape, eye: Eye, frame_shape: tuple[int, ...]) -> Box | None:
    """The pixels the eye redraw may touch: the opening's bounding box (the lid curves may bulge past
    their landmarks), one pixel more for the soft edge."""
    return _clipped_box(eye, 1.0, 0.25 * shape.max_opening_px + 1.0, frame_shape)


def _intersection(first: Box, second: Box) -> Box | None:
    """The boxes' overlap, or None where it is under 3x3 pixels."""
    x0, y0 = max(first[0], second[0]), max(first[1], second[1])
    x1, y1 = min(first[2], second[2]), min(first[3], second[3])
    return (x0, y0, x1, y1) if x1 - x0 > 2 and y1 - y0 > 2 else None


@dataclass(frozen=True)
class EyeRedraw:
    """One eye's move: its iris from ``source`` to ``target`` (frame pixels), of the face's iris radius."""

    eye: Eye
    shape: EyeShape
    source: np.ndarray
    target: np.ndarray

    def in_box(self, box: Box) -> tuple[EyeNumbers, IrisPath]:
        """The eye and its move in the pixels of ``box``, as the compiled loops take them."""
        x0, y0 = box[:2]
        return self.shape.numbers((x0, y0)), IrisPath(float(self.source[0] - x0), float(self.source[1] - y0),
                                                      float(self.target[0] - x0), float(self.target[1] - y0))


def _squint(frame: np.ndarray, eye: Eye, shape: EyeShape, amount: float) -> None:
    """Lower the upper lid by ``amount`` (0-1) of a third of the opening: content above it slides down.

    Over the skin above the lid the shift grows to the full drop; below the lid it fades out.
    Nothing moves further than 0.4 eye widths above the lid, which keeps the change near the eye.
    """
    region = eye_region(eye, frame.shape)
    if region is None:
        return
    # Only the lid's own columns move, and nothing below the lower lid.
    (low_x, _), (high_x, high_y) = eye.bounds
    x0, y0, x1, y1 = region
    x0, x1 = max(x0, math.floor(low_x)), min(x1, math.ceil(high_x) + 1)
    y1 = min(y1, math.ceil(high_y + 0.25 * shape.max_opening_px) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    opening_height = max(shape.max_opening_px, 1.0)
    # OpenCV samples in fixed point (1/32 pixel) either way; given fixed-point maps, its remap takes the fast
    # path: 0.08 ms for a 1080p eye in all, against 0.13 given float maps. The two paths round to the 1/32
    # pixel differently: mostly 0-3 levels apart, up to 9 at a lash's sharp edge.
    fixed_point, fractions = squint_maps(y1 - y0, x1 - x0, shape.numbers((x0, y0)), amount * opening_height / 3.0,
                                         0.4 * eye.width_px, 0.9 * opening_height)
    # Read from a copy: the box of the frame is written as it is read.
    cv2.remap(frame[y0:y1, x0:x1].copy(), fixed_point, fractions, cv2.INTER_LINEAR, dst=frame[y0:y1, x0:x1],
              borderMode=cv2.BORDER_REPLICATE)


def _on_eye(redraw: EyeRedraw, radius: float) -> bool:
    """Whether the move starts and ends on its eye: within an iris radius of its landmarks' box. A pupil
    farther out is no iris (a fit thrown off the face onto a brow or a hand), and the moved iris's window
    could lie wholly outside the eye's box (the compiled redraw raised on it)."""
    (low_x, low_y), (high_x, high_y) = redraw.eye.bounds
    return all(low_x - radius <= x <= high_x + radius and low_y - radius <= y <= high_y + radius
               for x, y in (redraw.source, redraw.target))


_helper: ThreadPoolExecutor | None = None


def _each(jobs: Sequence[Callable[[], _Result]], together: bool) -> list[_Result]:
    """The jobs' results, in order: with ``together``, the first on this thread while the rest run on a
    helper thread (made on first need, kept for later frames); else one after another here."""
    global _helper
    if not together or len(jobs) < 2:
        return [job() for job in jobs]
    if _helper is None:
        _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glare-render")
    pending = [_helper.submit(job) for job in jobs[1:]]
    results = [jobs[0]()]
    # A job the helper has not begun (the other core busy with a face search, say) is taken back and done
    # here: waiting for the helper to be given a core stalled frames by milliseconds.
    for job, future in zip(jobs[1:], pending):
        results.append(job() if future.cancel() else future.result())
    return results


def _covering(first: Box, second: Box | None) -> Box:
    """The smallest box holding both."""
    if second is None:
        return first
    return min(first[0], second[0]), min(first[1], second[1]), max(first[2], second[2]), max(first[3], second[3])


def _apart(boxes: Sequence[Box]) -> bool:
    """Whether no two boxes share a pixel (eyes drawn at once must not write to each other's pixels)."""
    return not any(first[0] < second[2] and second[0] < first[2] and first[1] < second[3] and second[1] < first[3]
                   for i, first in enumerate(boxes) for second in boxes[i + 1:])


def render_face(frame: np.ndarray, redraws: Sequence[EyeRedraw], iris_radius_px: float, squint: float = 0.0,
                strength: float = 1.0) -> bool:
    """Redraw a face's eyes in ``frame`` (BGR uint8, changed in place): each iris moved from its source to
    its target, of radius ``iris_radius_px`` (the limbus), ``squint`` (0-1) lowering the upper lids and
    ``strength`` (0-1) blending the redrawn eyes over the real ones. Either every eye is redrawn or,
    where one cannot be (too small, off the frame, no sclera in sight, its iris off the eye), none is: returns
    which."""
    if not redraws or any(redraw.eye.width_px < MIN_EYE_WIDTH_PX for redraw in redraws):
        return False
    if not all(_on_eye(redraw, iris_radius_px) for redraw in redraws):
        return False
    boxes = [opening_box(redraw.shape, redraw.eye, frame.shape) for redraw in redraws]
    if any(box is None for box in boxes):
        return False
    squinting = squint * strength > 0.01
    together = (min((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes) >= TWO_THREADS_MIN_PX
                # What each eye's redraw and squint may write (the squint stays inside ``eye_region``).
                and _apart([_covering(box, eye_region(redraw.eye, frame.shape)) if squinting else box
                            for redraw, box in zip(redraws, boxes)]))
    # Every eye is read before any is written, and checked before any is drawn.
    regions = [np.ascontiguousarray(frame[y0:y1, x0:x1]) for x0, y0, x1, y1 in boxes]
    eyes = [redraw.in_box(box) for redraw, box in zip(redraws, boxes)]
    layers = _each([partial(eye_layers, region, eye, path, iris_radius_px) for region, (eye, path) in zip(regions, eyes)],
                   together)
    if not all(layer[0] for layer in layers):
        return False

    def draw(index: int) -> None:
        (x0, y0, x1, y1), (eye, path) = boxes[index], eyes[index]
        redraw_eye(regions[index], eye, path, iris_radius_px, strength, *layers[index][1:], frame[y0:y1, x0:x1])
        if squinting and together:
            _squint(frame, redraws[index].eye, redraws[index].shape, squint * strength)

    _each([partial(draw, index) for index in range(len(redraws))], together)
    # Eyes whose boxes meet are squinted after both are redrawn: a squint moves what a redraw wrote.
    if squinting and not together:
        for redraw in redraws:
            _squint(frame, redraw.eye, redraw.shape, squint * strength)
    return True


def warm_up() -> float:
    """Compile the renderer's loops, or load them from the disk cache, on a small synthetic eye, so that
    no frame waits for it: compiling takes seconds, and happens once per install. Returns the seconds
    it took."""
    start = time.perf_counter()
    frame = np.full((48, 64, 3), 200, np.uint8)
    cv2.circle(frame, (30, 24), 5, (40, 60, 90), -1)
    eye = Eye("right", np.array([[14.0, 24.0], [24.0, 17.0], [38.0, 17.0], [48.0, 24.0], [38.0, 31.0], [24.0, 31.0]]))
    shape = EyeShape.of(eye)
    centre = fit_iris(frame, shape, np.array([30.0, 24.0]), 5.0).centre
    render_face(frame, [EyeRedraw(eye, shape, centre, centre - (6.0, 0.0))], 5.0, squint=0.5, strength=1.0)
    return time.perf_counter() - start
