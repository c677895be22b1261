"""Render: move an iris inside its eye, as real eyes move.

For each eye, in a small region around it: the iris (centre and radius from the locator) is
lifted out, the sclera it uncovers is filled from the surrounding sclera, the iris is placed at
its target, clipped to the eye opening so the lids cover it as real lids would, and the result
is blended into the frame along a feathered seam. An optional squint lowers the upper lid.
Pixels outside each eye's region never change.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from glare.eyes import Eye
from glare.gaze import Gaze

MIN_OPENNESS = 0.17
"""Eyes less open than this (blinks, squeezed eyes) are left as they are."""
MIN_EYE_WIDTH_PX = 10.0
MIN_CONFIDENCE = 0.2
IRIS_ROOM_TUCK = 0.8
"""How much of its radius the iris may tuck under a corner at full intensity."""


@dataclass(frozen=True)
class IrisMove:
    """Where an iris was found and where it is drawn, in frame pixels."""

    source: tuple[float, float]
    target: tuple[float, float]
    iris_radius_px: float
    rendered: bool


def eye_axes(eye: Eye) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the eye (image-left corner to image-right corner) and across it (downwards)."""
    left, right = eye.corners
    along = (right - left) / max(np.linalg.norm(right - left), 1e-6)
    return along, np.array([-along[1], along[0]])


def iris_target(eye: Eye, source: np.ndarray, iris_radius_px: float, gaze: Gaze) -> np.ndarray:
    """Where the iris centre goes for ``gaze``: along the eye's axis by a share of its room, keeping the
    pupil's own height, blended from the real position by the gaze's strength."""
    along, across = eye_axes(eye)
    left, right = eye.corners
    middle = (left + right) / 2.0
    room = max(eye.width_px / 2.0 - IRIS_ROOM_TUCK * iris_radius_px, 0.0)
    half_height = eye.openness * eye.width_px / 2.0
    height_now = float(np.dot(source - middle, across))
    goal = middle + along * (gaze.offset[0] * room) + across * (height_now + gaze.offset[1] * 0.5 * half_height)
    return source + gaze.strength * (goal - source)


def lid_outline(contour: np.ndarray, samples: int = 12) -> np.ndarray:
    """A smooth closed outline of the eye opening: a cubic through each lid's four landmarks."""
    def lid(points: np.ndarray) -> np.ndarray:
        knots = np.array([0.0, 1 / 3, 2 / 3, 1.0])
        t = np.linspace(0.0, 1.0, samples)
        return np.stack([np.polyval(np.polyfit(knots, points[:, k], 3), t) for k in (0, 1)], axis=1)

    upper = lid(contour[[0, 1, 2, 3]])
    lower = lid(contour[[3, 4, 5, 0]])
    return np.concatenate([upper, lower[1:-1]])


def eye_region(eye: Eye, frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The rectangle (x0, y0, x1, y1) the renderer may touch for this eye, clipped to the frame."""
    margin_x, margin_y = 0.2 * eye.width_px, 0.45 * eye.width_px
    x0, y0 = np.floor(eye.contour.min(axis=0) - (margin_x, margin_y)).astype(int)
    x1, y1 = np.ceil(eye.contour.max(axis=0) + (margin_x, margin_y)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame_shape[1]), min(y1, frame_shape[0])
    return (x0, y0, x1, y1) if x1 - x0 > 2 and y1 - y0 > 2 else None


def _soft_polygon(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    return mask.astype(np.float32) / 255.0


def _soft_disc(shape: tuple[int, int], centre: np.ndarray, radius: float) -> np.ndarray:
    ys, xs = np.ogrid[: shape[0], : shape[1]]
    distance = np.sqrt((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2)
    return np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)


def _sclera_colour(region: np.ndarray, opening: np.ndarray, source: np.ndarray, radius: float) -> np.ndarray:
    """The typical colour of the visible sclera: the brighter part of the opening outside the iris."""
    ys, xs = np.nonzero(opening > 0.6)
    outside = np.hypot(xs - source[0], ys - source[1]) > radius + 1.5
    pixels = region[ys[outside], xs[outside]] if outside.sum() >= 4 else region[ys, xs]
    if len(pixels) == 0:
        return np.array([200.0, 200.0, 210.0], np.float32)
    brightness = pixels.sum(axis=1)
    return pixels[brightness >= np.percentile(brightness, 40)].mean(axis=0).astype(np.float32)


def _iris_patch(region: np.ndarray, opening: np.ndarray, source: np.ndarray, radius: float) -> np.ndarray:
    """The region with the iris completed where lids hid it: mirrored across the pupil, else its mean colour."""
    visible = _soft_disc(opening.shape, source, radius) * opening
    weight = visible.sum()
    if weight < 1.0:
        return region
    mean = (region * visible[..., None]).sum(axis=(0, 1)) / weight
    height, width = opening.shape
    map_x = np.tile(np.arange(width, dtype=np.float32), (height, 1))
    map_y = np.tile((2 * np.float32(source[1]) - np.arange(height, dtype=np.float32))[:, None], (1, width))
    mirrored = cv2.remap(region, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mirrored_visible = cv2.remap(visible, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
    hidden_fill = mirrored * mirrored_visible + mean * (1.0 - mirrored_visible)
    return region * visible[..., None] + hidden_fill * (1.0 - visible[..., None])


def _squint(region: np.ndarray, outline: np.ndarray, eye_width: float, opening_height: float, amount: float) -> np.ndarray:
    """Lower the upper lid by ``amount`` (0-1) of a third of the opening: content above it slides down."""
    height, width = region.shape[:2]
    upper = outline[: len(outline) // 2 + 1]
    order = np.argsort(upper[:, 0])
    xs = np.arange(width, dtype=np.float32)
    lid_y = np.interp(xs, upper[order, 0], upper[order, 1])
    centre_x = (upper[:, 0].min() + upper[:, 0].max()) / 2.0
    half_width = max(eye_width / 2.0, 1.0)
    bump = np.clip(1.0 - ((xs - centre_x) / half_width) ** 2, 0.0, 1.0) ** 1.5
    drop = amount * opening_height / 3.0 * bump
    ys = np.arange(height, dtype=np.float32)[:, None]
    lid = lid_y[None, :]
    above_span = 0.4 * eye_width
    below_span = max(opening_height * 0.9, 1.0)
    # Over the skin above the lid the shift grows to the full drop; below the lid it fades out.
    # Nothing moves further than ``above_span`` above the lid, which keeps the change near the eye.
    ramp = np.where(ys <= lid, np.clip(1.0 - (lid - ys) / above_span, 0.0, 1.0),
                    np.clip(1.0 - (ys - lid) / below_span, 0.0, 1.0))
    displacement = drop[None, :] * ramp
    map_x = np.tile(xs, (height, 1))
    map_y = (ys - displacement).astype(np.float32)
    return cv2.remap(region, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def move_iris(frame: np.ndarray, eye: Eye, source: np.ndarray, iris_radius_px: float, target: np.ndarray,
              squint: float = 0.0) -> bool:
    """Redraw ``eye`` in ``frame`` (BGR uint8, changed in place) with its iris moved from ``source`` to
    ``target``; returns False, changing nothing, when the eye is too small or its region leaves the frame."""
    bounds = eye_region(eye, frame.shape)
    if bounds is None or eye.width_px < MIN_EYE_WIDTH_PX:
        return False
    x0, y0, x1, y1 = bounds
    offset = np.array([x0, y0], np.float64)
    region = frame[y0:y1, x0:x1].astype(np.float32)
    shape = region.shape[:2]
    outline = lid_outline(eye.contour) - offset
    opening = _soft_polygon(outline, shape)
    source_local, target_local = source - offset, target - offset
    radius = iris_radius_px * 1.08  # include the dark limbal ring at the iris's edge

    hole = (_soft_disc(shape, source_local, radius + 1.5) * opening > 0.02).astype(np.uint8)
    prepared = region.copy()
    prepared[(opening < 0.5) & (hole == 0)] = _sclera_colour(region, opening, source_local, radius)
    inpainted = cv2.inpaint(np.clip(prepared, 0, 255).astype(np.uint8), hole, 3, cv2.INPAINT_TELEA)
    filled = region.copy()
    filled[hole > 0] = inpainted[hole > 0]

    patch = _iris_patch(region, opening, source_local, radius)
    shift = np.float32([[1, 0, target_local[0] - source_local[0]], [0, 1, target_local[1] - source_local[1]]])
    moved = cv2.warpAffine(patch, shift, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    alpha = (_soft_disc(shape, target_local, radius) * opening)[..., None]
    composed = filled * (1.0 - alpha) + moved * alpha

    seam = cv2.GaussianBlur(opening, (0, 0), 0.8)[..., None]
    result = region * (1.0 - seam) + composed * seam
    if squint > 0.0:
        result = _squint(result, outline, eye.width_px, eye.openness * eye.width_px, squint)
    frame[y0:y1, x0:x1] = np.clip(result + 0.5, 0, 255).astype(np.uint8)
    return True
