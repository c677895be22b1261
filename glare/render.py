"""Render: redraw each eye from a small model of an eye, as if it had turned.

Each eye is described in its own upright frame: u runs along the corner-to-corner axis (-1 and
+1 at the corners), v across it, in pixels, downwards. The lids are cubics through dlib's lid
points that meet at the corners, so the opening, and where the lids cover the iris, are known
in closed form at any point: no polygons to fill, no fits per frame. Inside the opening only:

- sclera layer: where the old iris was, a smooth colour field fitted to the visible sclera
  (quadratic along the eye and across it, from lid to lid), which keeps the upper lid's shadow
  and the darkening toward the corners;
- iris layer: the whole iris, limbal ring included, moved to its target and clipped by the lids
  with soft edges. What the lids hid at the source is completed in polar terms: from the same
  radius at the angle mirrored across the eye's axis where that shows, else from the mean of
  the visible angles at that radius;
- catchlight: the corneal reflection stays where the light puts it; it is pulled along only as
  far as it takes to stay on the moved iris.

An optional squint lowers the upper lid. Pixels outside each eye's region never change, and a
face's eyes are redrawn together or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from glare.eyes import Eye, EyeShape, eye_coordinates, lid_curves, opening_depth
from glare.gaze import Gaze
from glare.iris import LUMA_BGR

MIN_EYE_WIDTH_PX = 10.0
"""Eyes narrower than this are too small to redraw."""
IRIS_ROOM_TUCK = 0.5
"""How much of its radius the iris may tuck under a corner at full intensity."""
LIMBUS_SPREAD = 1.1
"""The drawn iris reaches this far past the limbus radius (as a factor, plus half a pixel): the
limbal ring's blurred outer edge belongs to the iris, not the sclera."""
LID_MARGIN_PX = 1.0
"""Iris pixels closer than this to a lid line are lash and lid shadow, not iris: they are completed."""
SCLERA_LID_MARGIN_PX = 1.5
"""Sclera samples keep this far from the lid lines, where lashes darken them."""
MIN_SCLERA_SAMPLES = 8
"""An eye with fewer sclera pixels in sight than this cannot be redrawn (its face is left alone)."""
SCLERA_RIDGE = 2.0
"""Pulls the sclera field toward a flat colour where the visible sclera says little (one side only)."""
HOLE_FEATHER_PX = 1.5
"""Over how many pixels the redrawn sclera blends into the real one at the hole's edge."""
CATCHLIGHT_KEEP = 0.7
"""The catchlight may sit up to this share of the iris radius from the moved iris's centre."""

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in frame pixels, the ends exclusive."""


def iris_target(eye: Eye, source: np.ndarray, iris_radius_px: float, gaze: Gaze) -> np.ndarray:
    """Where the iris centre goes for ``gaze``: along the eye's axis by a share of its room, keeping the
    pupil's own height, blended from the real position by the gaze's strength."""
    left, right = eye.corners
    along = (right - left) / max(np.linalg.norm(right - left), 1e-6)
    across = np.array([-along[1], along[0]])
    middle = (left + right) / 2.0
    room = max(eye.width_px / 2.0 - IRIS_ROOM_TUCK * iris_radius_px, 0.0)
    half_height = eye.openness * eye.width_px / 2.0
    height_now = float(np.dot(source - middle, across))
    goal = middle + along * (gaze.offset[0] * room) + across * (height_now + gaze.offset[1] * 0.5 * half_height)
    return source + gaze.strength * (goal - source)


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


def _opening_box(shape: EyeShape, eye: Eye, frame_shape: tuple[int, ...]) -> Box | None:
    """The pixels the eye redraw may touch: the opening's bounding box (the lid curves may bulge past
    their landmarks), one pixel more for the soft edge."""
    return _clipped_box(eye, 1.0, 0.25 * shape.max_opening_px + 1.0, frame_shape)


def _intersection(first: Box, second: Box) -> Box | None:
    """The boxes' overlap, or None where it is under 3x3 pixels."""
    x0, y0 = max(first[0], second[0]), max(first[1], second[1])
    x1, y1 = min(first[2], second[2]), min(first[3], second[3])
    return (x0, y0, x1, y1) if x1 - x0 > 2 and y1 - y0 > 2 else None


def _common_boxes(boxes: Sequence[Box], frame_shape: tuple[int, ...]) -> list[Box] | None:
    """Boxes of one size (the largest of ``boxes``), each covering its own box and kept inside the frame,
    so that a face's eyes are worked on as one stack of arrays; None where the frame is too small."""
    width = max(box[2] - box[0] for box in boxes)
    height = max(box[3] - box[1] for box in boxes)
    frame_height, frame_width = frame_shape[:2]
    if width > frame_width or height > frame_height:
        return None
    common = []
    for x0, y0, _, _ in boxes:
        x0, y0 = min(x0, frame_width - width), min(y0, frame_height - height)
        common.append((x0, y0, x0 + width, y0 + height))
    return common


@dataclass(frozen=True)
class EyeRedraw:
    """One eye's move: its iris from ``source`` to ``target`` (frame pixels), of the face's iris radius."""

    eye: Eye
    shape: EyeShape
    source: np.ndarray
    target: np.ndarray


@dataclass(frozen=True)
class ScleraField:
    """Smooth colours over eye openings, one per eye of a stack (the leading axes): coefficients
    (..., 3, 6) over ``sclera_basis`` (1, u, u^2, t, t^2, u t), t being 0 at the upper lid and 1 at
    the lower, clamped to the colours each eye's visible sclera really has."""

    coefficients: np.ndarray
    low: np.ndarray
    high: np.ndarray
    """(..., 3, 1) each: the darkest and the brightest sclera colour kept, BGR."""
    luma: np.ndarray
    """(...): the visible sclera's typical brightness."""

    def colour(self, basis: np.ndarray) -> np.ndarray:
        """The fields' colours (..., 3, N), BGR planes, at points given by their basis (..., 6, N)."""
        return np.minimum(np.maximum(self.coefficients @ basis, self.low), self.high)


_RIDGE = np.diag(np.float32([0.0] + [SCLERA_RIDGE] * 5))
_MIN_FIT_SAMPLES = 6


def sclera_basis(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The sclera field's basis (..., 6, N) at points (..., N): u along the eye, t from the upper to the
    lower lid."""
    return np.stack([np.ones_like(u), u, u * u, t, t * t, u * t], axis=-2)


def fit_sclera(basis: np.ndarray, colours: np.ndarray, sampled: np.ndarray | None = None) -> ScleraField:
    """The colour fields that fit sclera samples, given by their basis (..., 6, N) and colours (..., 3, N),
    BGR planes, with lashes, veins, lid shadow and any iris that spilled past the hole left out.
    ``sampled`` (..., N), 1 or 0, says which points are sclera samples at all (every one by default)."""
    luma = LUMA_BGR @ colours
    sampled = np.ones(luma.shape, np.float32) if sampled is None else sampled
    keep = sampled
    rows = np.swapaxes(basis, -1, -2)
    for _ in range(3):
        # Normal equations with each sample weighted in (1) or out (0): a 6x6 solve per eye.
        weighted = basis * keep[..., None, :]
        coefficients = np.swapaxes(np.linalg.solve(weighted @ rows + _RIDGE, weighted @ np.swapaxes(colours, -1, -2)),
                                   -1, -2)
        residual = luma - ((LUMA_BGR @ coefficients)[..., None, :] @ basis)[..., 0, :]
        count = keep.sum(-1, keepdims=True)
        spread = 1.25 * (np.abs(residual) * keep).sum(-1, keepdims=True) / count + 2.0
        # What is darker than the field is trimmed hard: the sclera is the bright part of the opening,
        # and a field pulled down by lid shadow and lashes leaves a dull grey where the iris was.
        trimmed = sampled * ((residual > -0.5 * spread) & (residual < 3.0 * spread))
        # An eye with too few samples left keeps the ones it had.
        keep = np.where(trimmed.sum(-1, keepdims=True) >= _MIN_FIT_SAMPLES, trimmed, keep)
    # The colours the field may take come from a looser trim: the hard one drops the real shading
    # toward the corners along with the lashes.
    kept = (residual > -spread) & (residual < 3.0 * spread) & (sampled > 0)
    kept = np.where(kept.any(-1, keepdims=True), kept, sampled > 0)[..., None, :]
    return ScleraField(coefficients, np.where(kept, colours, np.inf).min(-1, keepdims=True),
                       np.where(kept, colours, -np.inf).max(-1, keepdims=True), (luma * keep).sum(-1) / keep.sum(-1))


def _per_eye(values: Sequence[Sequence[float]]) -> np.ndarray:
    """Per-eye numbers (one row of numbers an eye) as float32 columns (eyes, 1, 1) each, ready to
    broadcast over a stack of eye planes."""
    return np.asarray(values, np.float32).T[:, :, None, None]


@dataclass
class _FaceLayers:
    """Everything needed to redraw a face's eyes, worked out before any pixel is written. Arrays are
    stacks, one eye after another (the leading axis), each over its eye's box (see ``_common_boxes``);
    colours are float32 BGR planes (eyes, 3, height, width), so a blend weight broadcasts over them."""

    boxes: list[Box]
    own_boxes: list[Box]
    """Each eye's own opening box, inside its box: the only pixels its redraw writes."""
    region: np.ndarray
    """The boxes' pixels."""
    luma: np.ndarray
    colour_and_depth: np.ndarray
    """(eyes, height, width, 4): BGR and how far inside the opening each pixel lies, interleaved: what
    the iris layer's warps sample."""
    opening: np.ndarray
    """1 inside the lids, 0 outside, antialiased."""
    to_source: tuple[np.ndarray, np.ndarray]
    """Each pixel's offset (x, y) from its eye's source iris centre."""
    from_source: np.ndarray
    """Each pixel's distance from its eye's source iris centre."""
    sclera: ScleraField
    sclera_colour: np.ndarray
    """The sclera field's colour at each pixel."""


def _prepare(frame: np.ndarray, redraws: Sequence[EyeRedraw], radius: float) -> _FaceLayers | None:
    """The eyes' geometry and sclera fields, or None where any eye cannot be redrawn."""
    if any(redraw.eye.width_px < MIN_EYE_WIDTH_PX for redraw in redraws):
        return None
    opening_boxes = [_opening_box(redraw.shape, redraw.eye, frame.shape) for redraw in redraws]
    boxes = None if any(box is None for box in opening_boxes) else _common_boxes(opening_boxes, frame.shape)
    if boxes is None:
        return None
    x0, y0, x1, y1 = boxes[0]
    pixels = np.stack([frame[box[1]:box[3], box[0]:box[2]] for box in boxes])
    # Each pixel's offset from its eye's middle, then its place in the eye's own frame (see EyeShape).
    (left, top, along_x, along_y, across_x, across_y, half_width, upper_a, upper_b, lower_a, lower_b,
     source_x, source_y) = _per_eye(
        [(box[0] - r.shape.origin[0], box[1] - r.shape.origin[1], *r.shape.along, *r.shape.across,
          r.shape.half_width, *r.shape.upper, *r.shape.lower, *(r.source - r.shape.origin))
         for box, r in zip(boxes, redraws)])
    xs = np.arange(x1 - x0, dtype=np.float32) + left
    ys = np.arange(y1 - y0, dtype=np.float32)[:, None] + top
    u, v = eye_coordinates(xs, ys, (along_x, along_y), (across_x, across_y), half_width)
    upper, lower = lid_curves(u, (upper_a, upper_b), (lower_a, lower_b))
    depth = opening_depth(u, v, (upper, lower), half_width)
    to_source = (xs - source_x, ys - source_y)
    from_source = np.sqrt(to_source[0] * to_source[0] + to_source[1] * to_source[1])
    sampled = _visible_sclera(depth, from_source, radius)
    if sampled is None:
        return None
    eyes, height, width = depth.shape
    region = np.ascontiguousarray(pixels.transpose(0, 3, 1, 2), np.float32)
    basis = sclera_basis(u.reshape(eyes, -1), ((v - upper) / np.maximum(lower - upper, 1.0)).reshape(eyes, -1))
    sclera = fit_sclera(basis, region.reshape(eyes, 3, -1), sampled.reshape(eyes, -1))
    return _FaceLayers(boxes, opening_boxes, region, (LUMA_BGR @ region.reshape(eyes, 3, -1)).reshape(depth.shape),
                       np.concatenate([pixels.astype(np.float32), depth[..., None]], axis=-1), _ramp(depth + 0.5),
                       to_source, from_source, sclera, sclera.colour(basis).reshape(region.shape))


def _visible_sclera(depth: np.ndarray, from_source: np.ndarray, radius: float) -> np.ndarray | None:
    """Which pixels (1 or 0) each eye's sclera field is fitted to: the sclera in sight. None where an
    eye shows too little of it."""
    # Small eyes show little sclera beside a large iris: where too little lies clear of the lids and
    # the limbus, the samples come closer to both.
    clear = ((depth > SCLERA_LID_MARGIN_PX) & (from_source > hole_radius(radius) + 1.0)).astype(np.float32)
    close = ((depth > 0.5) & (from_source > draw_radius(radius))).astype(np.float32)
    if np.any(close.sum((1, 2)) < MIN_SCLERA_SAMPLES):
        return None
    return np.where(clear.sum((1, 2), keepdims=True) >= MIN_SCLERA_SAMPLES, clear, close)


def draw_radius(radius: float) -> float:
    """How far from its centre the moved iris is drawn: the limbus and its blurred outer edge."""
    return radius * LIMBUS_SPREAD + 0.5


def hole_radius(radius: float) -> float:
    """How far from the old iris centre the sclera is redrawn, the last pixels blending into the real one."""
    return draw_radius(radius) + HOLE_FEATHER_PX


def _ramp(values: np.ndarray) -> np.ndarray:
    """``values`` clamped to 0-1 (cheaper than np.clip on small arrays)."""
    return np.minimum(np.maximum(values, 0.0), 1.0)


def _iris_samples(layers: _FaceLayers, redraws: Sequence[EyeRedraw]) -> np.ndarray:
    """For each pixel of each eye: the source pixel at the same offset from the iris centre (direct), and
    the one at the same radius and the angle mirrored across the eye's axis through the source centre
    (mirrored), each with how far inside the opening it lies (whether the lids hid it). Planes
    (2, eyes, 4, height, width): B, G, R, depth."""
    stack = layers.colour_and_depth
    samples = np.empty((2,) + stack.shape, np.float32)
    height, width = stack.shape[1:3]
    for index, (box, redraw) in enumerate(zip(layers.boxes, redraws)):
        # Both are affine maps of the box, from output pixel to source pixel: p + shift, and p + shift
        # reflected across the line through the source centre along the eye.
        shift_x, shift_y = (float(value) for value in redraw.source - redraw.target)
        normal_x, normal_y = (float(value) for value in redraw.shape.across)
        offset = 2.0 * ((redraw.source[0] - box[0]) * normal_x + (redraw.source[1] - box[1]) * normal_y)
        xx, xy, yy = 1.0 - 2.0 * normal_x * normal_x, -2.0 * normal_x * normal_y, 1.0 - 2.0 * normal_y * normal_y
        maps = (np.array([[1.0, 0.0, shift_x], [0.0, 1.0, shift_y]]),
                np.array([[xx, xy, xx * shift_x + xy * shift_y + offset * normal_x],
                          [xy, yy, xy * shift_x + yy * shift_y + offset * normal_y]]))
        for kind, matrix in enumerate(maps):
            cv2.warpAffine(stack[index], matrix, (width, height), dst=samples[kind, index],
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(samples.transpose(0, 1, 4, 2, 3))


def _redraw(frame: np.ndarray, layers: _FaceLayers, redraws: Sequence[EyeRedraw], radius: float,
            strength: float) -> None:
    """Write the redrawn eyes into ``frame``: only pixels round the old and the new iris change."""
    region, opening = layers.region, layers.opening

    # Sclera layer, where the old iris was; its edge blends over HOLE_FEATHER_PX into the real sclera.
    hole = _ramp((hole_radius(radius) - layers.from_source) * (1.0 / HOLE_FEATHER_PX) + 0.5) * opening
    out = region + hole[:, None] * (layers.sclera_colour - region)

    # Iris layer: each pixel near the target takes the source pixel at the same offset from the centre,
    # and the mirrored one where the lids hid that.
    samples = _iris_samples(layers, redraws)
    shown_both = _ramp(samples[:, :, 3] - (LID_MARGIN_PX - 0.5))
    shown, mirror_shown = shown_both[0], shown_both[1]
    direct, mirrored = samples[0, :, :3], samples[1, :, :3]

    # Catchlights are bright specks on the iris; they are kept out of its texture and drawn apart.
    shift_x, shift_y = _per_eye([r.target - r.source for r in redraws])
    to_target = (layers.to_source[0] - shift_x, layers.to_source[1] - shift_y)
    from_target = np.sqrt(to_target[0] * to_target[0] + to_target[1] * to_target[1])
    eyes = len(redraws)
    luma = (LUMA_BGR @ direct.reshape(eyes, 3, -1)).reshape(shown.shape)
    inner = shown * (from_target < 0.8 * radius)
    iris_luma = (luma * inner).sum((1, 2), keepdims=True) / np.maximum(inner.sum((1, 2), keepdims=True), 1e-3)
    contrast = np.maximum(layers.sclera.luma[:, None, None] - iris_luma, 10.0)
    texture = shown * (1.0 - _speck(luma, iris_luma, contrast))
    iris = _completed_iris(direct, mirrored, luma, texture, mirror_shown, from_target, radius)
    iris_alpha = _ramp(draw_radius(radius) + 0.5 - from_target) * opening
    out += iris_alpha[:, None] * (iris - out)

    on_iris = opening * (from_target < radius)
    for index, redraw in enumerate(redraws):
        _draw_catchlight(out[index], layers, index, redraw, radius, float(iris_luma[index, 0, 0]),
                         float(contrast[index, 0, 0]), on_iris[index])
    if strength < 1.0:
        out = region + strength * (out - region)
    # Every layer blends real pixels and colours clamped to real ones: out stays within 0-255.
    pixels = (out + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
    for eye_pixels, box, (x0, y0, x1, y1) in zip(pixels, layers.boxes, layers.own_boxes):
        frame[y0:y1, x0:x1] = eye_pixels[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]]


def _completed_iris(direct: np.ndarray, mirrored: np.ndarray, luma: np.ndarray, texture: np.ndarray,
                    mirror_shown: np.ndarray, from_target: np.ndarray, radius: float) -> np.ndarray:
    """The moved irises: their own texture where it showed at the source, else the mirrored texture, else
    the ring profile: the visible iris's mean brightness at each whole-pixel radius (the dark limbal ring,
    the lighter middle) in its mean colour. One histogram serves all eyes, each in its own range of bins."""
    eyes = len(direct)
    rings = int(hole_radius(radius) + 1.0) + 1
    ring = (np.minimum(from_target, hole_radius(radius) + 1.0).astype(np.intp)
            + (np.arange(eyes) * rings)[:, None, None]).ravel()
    counts = np.bincount(ring, weights=texture.ravel(), minlength=eyes * rings)
    # The colour comes from the iris itself: the texture farther out is sclera and skin.
    weights = (texture * (from_target < radius)).reshape(eyes, -1, 1)
    mean_colour = (direct.reshape(eyes, 3, -1) @ weights) / np.maximum(weights.sum(1, keepdims=True), 1e-3)
    mean_luma = np.maximum(LUMA_BGR @ mean_colour, 1.0)
    ring_luma = np.bincount(ring, weights=(texture * luma).ravel(), minlength=eyes * rings)
    brightness = np.where(counts > 0.5, ring_luma / np.maximum(counts, 1e-3) / np.repeat(mean_luma, rings), 1.0)
    around = (brightness.astype(np.float32)[ring].reshape(eyes, 1, -1) * mean_colour).reshape(direct.shape)
    completed = around + mirror_shown[:, None] * (mirrored - around)
    return completed + texture[:, None] * (direct - completed)


def _speck(luma: np.ndarray, iris_luma: np.ndarray | float, contrast: np.ndarray | float) -> np.ndarray:
    """How much each pixel on the iris is a catchlight: nearly as bright as the sclera, or brighter."""
    return _ramp((luma - (iris_luma + 0.85 * contrast)) * (1.0 / (0.15 * contrast)))


def _draw_catchlight(out: np.ndarray, layers: _FaceLayers, index: int, redraw: EyeRedraw, radius: float,
                     iris_luma: float, contrast: float, on_iris: np.ndarray) -> None:
    """Eye ``index``'s catchlight, in place in ``out`` (its BGR planes), pulled toward the moved iris only
    as far as needed to stay on it (``on_iris``: the moved iris's pixels in the opening)."""
    speck = _speck(layers.luma[index], iris_luma, contrast) * (layers.from_source[index] < 0.8 * radius)
    moments = cv2.moments(speck)
    if moments["m00"] < 0.5:
        return
    x0, y0 = layers.boxes[index][:2]
    offset_x = moments["m10"] / moments["m00"] + x0 - redraw.target[0]
    offset_y = moments["m01"] / moments["m00"] + y0 - redraw.target[1]
    distance = math.hypot(offset_x, offset_y)
    keep = CATCHLIGHT_KEEP * radius
    height, width = speck.shape
    colour = layers.region[index]
    if distance > keep + 0.05:
        pull = np.float32([[1, 0, offset_x * (keep / distance - 1.0)], [0, 1, offset_y * (keep / distance - 1.0)]])
        colour = cv2.warpAffine(layers.colour_and_depth[index], pull, (width, height), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE).transpose(2, 0, 1)[:3]
        speck = cv2.warpAffine(speck, pull, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha = speck * on_iris
    out += alpha * (colour - out)


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
    u, v = shape.grid((x0, y0, x1, y1))
    upper, _ = shape.lids(u)
    opening_height = max(shape.max_opening_px, 1.0)
    bulge = np.maximum(1.0 - u * u, 0.0)
    drop = np.float32(amount * opening_height / 3.0) * bulge * np.sqrt(bulge)
    below_lid = v - upper
    ramp = _ramp(np.minimum(1.0 + below_lid * np.float32(1.0 / (0.4 * eye.width_px)),
                            1.0 - below_lid * np.float32(1.0 / (0.9 * opening_height))))
    displacement = drop * ramp
    height, width = u.shape
    map_x = np.arange(width, dtype=np.float32) - displacement * np.float32(shape.across[0])
    map_y = np.arange(height, dtype=np.float32)[:, None] - displacement * np.float32(shape.across[1])
    frame[y0:y1, x0:x1] = cv2.remap(frame[y0:y1, x0:x1], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def render_face(frame: np.ndarray, redraws: Sequence[EyeRedraw], iris_radius_px: float, squint: float = 0.0,
                strength: float = 1.0) -> bool:
    """Redraw a face's eyes in ``frame`` (BGR uint8, changed in place): each iris moved from its source to
    its target, of radius ``iris_radius_px`` (the limbus), ``squint`` (0-1) lowering the upper lids and
    ``strength`` (0-1) blending the redrawn eyes over the real ones. Either every eye is redrawn or,
    where one cannot be (too small, off the frame, no sclera in sight), none is: returns which."""
    layers = _prepare(frame, redraws, iris_radius_px) if redraws else None
    if layers is None:
        return False
    _redraw(frame, layers, redraws, iris_radius_px, strength)
    if squint * strength > 0.01:
        for redraw in redraws:
            _squint(frame, redraw.eye, redraw.shape, squint * strength)
    return True
