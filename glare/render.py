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

from glare.eyes import Eye, EyeShape
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


def _disc_box(centre: np.ndarray, radius: float) -> Box:
    x, y = float(centre[0]), float(centre[1])
    return math.floor(x - radius), math.floor(y - radius), math.ceil(x + radius) + 1, math.ceil(y + radius) + 1


def _union(first: Box, second: Box) -> Box:
    return (min(first[0], second[0]), min(first[1], second[1]), max(first[2], second[2]), max(first[3], second[3]))


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


@dataclass(frozen=True)
class ScleraField:
    """A smooth colour over the eye opening: coefficients (6, 3) over ``sclera_basis`` (1, u, u^2, t,
    t^2, u t), t being 0 at the upper lid and 1 at the lower, clamped to the colours the visible sclera
    really has."""

    coefficients: np.ndarray
    low: np.ndarray
    high: np.ndarray
    luma: float
    """The visible sclera's typical brightness."""

    def colour(self, basis: np.ndarray) -> np.ndarray:
        """The field's colours (N, 3) at points given by their basis rows (N, 6)."""
        return np.minimum(np.maximum(basis @ self.coefficients, self.low), self.high)


_RIDGE = np.diag(np.float32([0.0] + [SCLERA_RIDGE] * 5))


def sclera_basis(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The sclera field's basis (..., 6) at points (u along the eye, t from the upper to the lower lid)."""
    return cv2.merge([np.ones_like(u), u, u * u, t, t * t, u * t]).reshape(*u.shape, 6)


def fit_sclera(basis: np.ndarray, colours: np.ndarray) -> ScleraField:
    """The colour field that fits sclera samples, given by their basis rows (N, 6) and colours (N, 3),
    with lashes, veins, lid shadow and any iris that spilled past the hole left out."""
    luma = colours @ LUMA_BGR
    keep = np.ones(len(colours), np.float32)
    for _ in range(2):
        # Normal equations with each sample weighted in (1) or out (0): a 6x6 solve.
        weighted = basis * keep[:, None]
        _, coefficients = cv2.solve(weighted.T @ basis + _RIDGE, weighted.T @ colours, flags=cv2.DECOMP_CHOLESKY)
        residual = luma - basis @ (coefficients @ LUMA_BGR)
        spread = 1.25 * float(np.abs(residual) @ keep) / float(keep.sum()) + 2.0
        # What is darker than the field is trimmed hard: the sclera is the bright part of the opening.
        trimmed = (residual > -spread) & (residual < 3.0 * spread)
        if np.count_nonzero(trimmed) < 6:
            break
        keep = trimmed.astype(np.float32)
    kept = colours[keep > 0].reshape(-1, 1, 3)
    return ScleraField(coefficients, cv2.reduce(kept, 0, cv2.REDUCE_MIN).ravel(), cv2.reduce(kept, 0, cv2.REDUCE_MAX).ravel(),
                       float(luma @ keep) / float(keep.sum()))


@dataclass
class _EyeLayers:
    """Everything needed to redraw one eye, worked out before any pixel is written. Arrays cover the
    eye's box (see ``_opening_box``)."""

    box: Box
    region: np.ndarray
    """The box's pixels, float32 BGR."""
    luma: np.ndarray
    colour_and_depth: np.ndarray
    """BGR and how far inside the opening each pixel lies (float32, 4 channels): what the iris layer samples."""
    v: np.ndarray
    """Each pixel's place across the eye, in pixels."""
    from_source: np.ndarray
    """Each pixel's distance from the source iris centre."""
    sclera: ScleraField
    sclera_colour: np.ndarray
    """The sclera field's colour at each pixel."""

    def opening(self, window: tuple[slice, slice]) -> np.ndarray:
        """1 inside the lids, 0 outside, antialiased, over ``window`` (slices into the box)."""
        return _ramp(self.colour_and_depth[window + (3,)] + 0.5)


def _distances(box: Box, point: np.ndarray) -> np.ndarray:
    """Each pixel centre's distance from ``point``, over ``box``."""
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1, dtype=np.float32) - np.float32(point[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(point[1])
    return np.sqrt(xs * xs + ys * ys)


def _prepare(frame: np.ndarray, redraw: EyeRedraw, radius: float) -> _EyeLayers | None:
    """The eye's geometry and sclera field, or None where the eye cannot be redrawn."""
    eye, shape = redraw.eye, redraw.shape
    box = _opening_box(shape, eye, frame.shape) if eye.width_px >= MIN_EYE_WIDTH_PX else None
    if box is None:
        return None
    x0, y0, x1, y1 = box
    region = frame[y0:y1, x0:x1].astype(np.float32)
    u, v = shape.grid(box)
    upper, lower = shape.lids(u)
    depth = shape.depth_inside(u, v, (upper, lower))
    from_source = _distances(box, redraw.source)
    basis = sclera_basis(u, (v - upper) / np.maximum(lower - upper, 1.0)).reshape(-1, 6)
    sclera = _fit_visible_sclera(region, basis, depth, from_source, radius)
    if sclera is None:
        return None
    return _EyeLayers(box, region, cv2.cvtColor(region, cv2.COLOR_BGR2GRAY), cv2.merge([region, depth]), v, from_source,
                      sclera, sclera.colour(basis).reshape(region.shape))


def _fit_visible_sclera(region: np.ndarray, basis: np.ndarray, depth: np.ndarray, from_source: np.ndarray,
                        radius: float) -> ScleraField | None:
    """The sclera field fitted to the sclera in sight, or None where too little of it shows."""
    # Small eyes show little sclera beside a large iris: where too little lies clear of the lids and
    # the limbus, the samples come closer to both.
    for lid_margin, iris_margin in ((SCLERA_LID_MARGIN_PX, hole_radius(radius) + 1.0), (0.5, draw_radius(radius))):
        sample = (depth > lid_margin) & (from_source > iris_margin)
        if np.count_nonzero(sample) >= MIN_SCLERA_SAMPLES:
            sample = sample.ravel()
            return fit_sclera(basis[sample], region.reshape(-1, 3)[sample])
    return None


def draw_radius(radius: float) -> float:
    """How far from its centre the moved iris is drawn: the limbus and its blurred outer edge."""
    return radius * LIMBUS_SPREAD + 0.5


def hole_radius(radius: float) -> float:
    """How far from the old iris centre the sclera is redrawn, the last pixels blending into the real one."""
    return draw_radius(radius) + HOLE_FEATHER_PX


def _ramp(values: np.ndarray) -> np.ndarray:
    """``values`` clamped to 0-1 (cheaper than np.clip on small arrays)."""
    return np.minimum(np.maximum(values, 0.0), 1.0)


def _redraw(frame: np.ndarray, layers: _EyeLayers, redraw: EyeRedraw, radius: float, strength: float) -> None:
    """Write the redrawn eye into ``frame``: only the window round the old and the new iris changes."""
    shape, source, target = redraw.shape, redraw.source, redraw.target
    window = _intersection(_union(_disc_box(source, hole_radius(radius)), _disc_box(target, draw_radius(radius) + 1.0)),
                           layers.box)
    if window is None:
        return
    x0, y0, x1, y1 = window
    inside = (slice(y0 - layers.box[1], y1 - layers.box[1]), slice(x0 - layers.box[0], x1 - layers.box[0]))
    region, opening, from_source = layers.region[inside], layers.opening(inside), layers.from_source[inside]
    height, width = opening.shape

    # Sclera layer, where the old iris was; its edge blends over HOLE_FEATHER_PX into the real sclera.
    hole = _ramp((hole_radius(radius) - from_source) * (1.0 / HOLE_FEATHER_PX) + 0.5) * opening
    out = region + hole[..., None] * (layers.sclera_colour[inside] - region)

    # Iris layer: each pixel near the target takes the source pixel at the same offset from the centre,
    # and the mirrored one: the same radius at the angle mirrored across the eye's axis through the
    # source centre. Both are affine maps of the box; the samples carry how far inside the opening
    # they lie: whether the lids hid them.
    box_x, box_y = layers.box[0], layers.box[1]
    to_source = np.array([x0 - box_x - (target[0] - source[0]), y0 - box_y - (target[1] - source[1])])
    normal = shape.across
    reflection = np.eye(2) - 2.0 * np.outer(normal, normal)
    centre_offset = float((np.asarray(source) - (box_x, box_y)) @ normal)
    direct_map = np.hstack([np.eye(2), to_source[:, None]])
    mirror_map = np.hstack([reflection, (reflection @ to_source + 2.0 * centre_offset * normal)[:, None]])
    direct, mirrored = (cv2.warpAffine(layers.colour_and_depth, matrix, (width, height),
                                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
                        for matrix in (direct_map, mirror_map))
    shown = _ramp(direct[..., 3] - (LID_MARGIN_PX - 0.5))
    mirror_shown = _ramp(mirrored[..., 3] - (LID_MARGIN_PX - 0.5))
    direct, mirrored = direct[..., :3], mirrored[..., :3]

    # Catchlights are bright specks on the iris; they are kept out of its texture and drawn apart.
    from_target = _distances(window, target)
    luma = cv2.cvtColor(direct, cv2.COLOR_BGR2GRAY)
    inner = (shown * (from_target < 0.8 * radius)).ravel()
    iris_luma = float(np.vdot(luma, inner)) / max(float(inner.sum()), 1e-3)
    contrast = max(layers.sclera.luma - iris_luma, 10.0)
    texture = shown * (1.0 - _speck(luma, iris_luma, contrast))
    # The ring profile: the visible iris's mean brightness at each whole-pixel radius (the dark limbal
    # ring, the lighter middle), in the visible iris's mean colour.
    ring = np.minimum(from_target, hole_radius(radius) + 1.0).astype(np.intp).ravel()
    weights = texture.ravel()
    counts = np.bincount(ring, weights=weights)
    total = max(float(counts.sum()), 1e-3)
    mean_colour = (weights @ direct.reshape(-1, 3)) / total
    mean_luma = max(float(mean_colour @ LUMA_BGR), 1.0)
    ring_luma = np.bincount(ring, weights=weights * luma.ravel())
    brightness = np.where(counts > 0.5, ring_luma / np.maximum(counts, 1e-3) / mean_luma, 1.0)
    around = (brightness[ring, None] * mean_colour).astype(np.float32).reshape(direct.shape)
    completed = around + mirror_shown[..., None] * (mirrored - around)
    iris = completed + texture[..., None] * (direct - completed)
    iris_alpha = _ramp(draw_radius(radius) + 0.5 - from_target) * opening
    out += iris_alpha[..., None] * (iris - out)

    _draw_catchlight(out, layers, inside, target, radius, iris_luma, contrast, opening * (from_target < radius))
    if strength < 1.0:
        out = region + strength * (out - region)
    # Every layer blends real pixels and colours clamped to real ones: out stays within 0-255.
    frame[y0:y1, x0:x1] = (out + 0.5).astype(np.uint8)


def _speck(luma: np.ndarray, iris_luma: float, contrast: float) -> np.ndarray:
    """How much each pixel on the iris is a catchlight: nearly as bright as the sclera, or brighter."""
    return _ramp((luma - (iris_luma + 0.85 * contrast)) * (1.0 / (0.15 * contrast)))


def _draw_catchlight(out: np.ndarray, layers: _EyeLayers, inside: tuple[slice, slice], target: np.ndarray,
                     radius: float, iris_luma: float, contrast: float, on_iris: np.ndarray) -> None:
    """The source's catchlight, in place, pulled toward the moved iris only as far as needed to stay on it
    (``on_iris``: the moved iris's pixels in the opening)."""
    speck = _speck(layers.luma[inside], iris_luma, contrast) * (layers.from_source[inside] < 0.8 * radius)
    moments = cv2.moments(speck)
    if moments["m00"] < 0.5:
        return
    x0, y0 = layers.box[0] + inside[1].start, layers.box[1] + inside[0].start
    offset_x = moments["m10"] / moments["m00"] + x0 - target[0]
    offset_y = moments["m01"] / moments["m00"] + y0 - target[1]
    distance = math.hypot(offset_x, offset_y)
    keep = CATCHLIGHT_KEEP * radius
    height, width = speck.shape
    if distance > keep + 0.05:
        pull_x, pull_y = offset_x * (keep / distance - 1.0), offset_y * (keep / distance - 1.0)
        colour = cv2.warpAffine(layers.region, np.float32([[1, 0, pull_x - inside[1].start], [0, 1, pull_y - inside[0].start]]),
                                (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        speck = cv2.warpAffine(speck, np.float32([[1, 0, pull_x], [0, 1, pull_y]]), (width, height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    else:
        colour = layers.region[inside]
    alpha = speck * on_iris
    out += alpha[..., None] * (colour - out)


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
    prepared = [_prepare(frame, redraw, iris_radius_px) for redraw in redraws]
    if not prepared or any(layers is None for layers in prepared):
        return False
    for redraw, layers in zip(redraws, prepared):
        _redraw(frame, layers, redraw, iris_radius_px, strength)
        if squint * strength > 0.01:
            _squint(frame, redraw.eye, redraw.shape, squint * strength)
    return True
