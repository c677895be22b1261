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


def eye_region(eye: Eye, frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The rectangle (x0, y0, x1, y1) the renderer may touch for this eye (squint included), clipped to the frame."""
    margin_x, margin_y = 0.2 * eye.width_px, 0.45 * eye.width_px
    return _clipped_box(eye.contour.min(axis=0) - (margin_x, margin_y), eye.contour.max(axis=0) + (margin_x, margin_y),
                        frame_shape)


def _clipped_box(low: np.ndarray, high: np.ndarray, frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    x0, y0 = np.floor(low).astype(int)
    x1, y1 = np.ceil(high).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame_shape[1]), min(y1, frame_shape[0])
    return (x0, y0, x1, y1) if x1 - x0 > 2 and y1 - y0 > 2 else None


def _opening_box(shape: EyeShape, eye: Eye, frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The pixels the eye redraw touches: the opening's bounding box (the lid curves may bulge past
    their landmarks), one pixel more for the soft edge."""
    bulge = 0.25 * shape.max_opening_px + 1.0
    return _clipped_box(eye.contour.min(axis=0) - (1.0, bulge), eye.contour.max(axis=0) + (1.0, bulge), frame_shape)


@dataclass(frozen=True)
class EyeRedraw:
    """One eye's move: its iris from ``source`` to ``target`` (frame pixels), of the face's iris radius."""

    eye: Eye
    shape: EyeShape
    source: np.ndarray
    target: np.ndarray


@dataclass(frozen=True)
class ScleraField:
    """A smooth colour over the eye opening: coefficients (6, 3) over (1, u, u^2, t, t^2, u t), t being
    0 at the upper lid and 1 at the lower, clamped to the colours the visible sclera really has."""

    coefficients: np.ndarray
    low: np.ndarray
    high: np.ndarray
    luma: float
    """The visible sclera's typical brightness."""

    def colour(self, u: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.clip(_sclera_basis(u, t) @ self.coefficients, self.low, self.high)


def fit_sclera(u: np.ndarray, t: np.ndarray, colours: np.ndarray) -> ScleraField:
    """The colour field that fits sclera samples (N,) (N,) (N, 3), with lashes, veins, lid shadow
    and any iris that spilled past the hole left out."""
    basis = _sclera_basis(u, t).astype(np.float64)
    ridge = np.diag([0.0] + [SCLERA_RIDGE] * 5)
    keep = np.ones(len(colours), bool)
    for _ in range(2):
        kept_basis = basis[keep]
        coefficients = np.linalg.solve(kept_basis.T @ kept_basis + ridge, kept_basis.T @ colours[keep])
        residual = (colours - basis @ coefficients) @ LUMA_BGR
        spread = 1.25 * float(np.abs(residual[keep]).mean()) + 2.0
        # What is darker than the field is trimmed hard: the sclera is the bright part of the opening.
        trimmed = (residual > -spread) & (residual < 3.0 * spread)
        if trimmed.sum() < 6:
            break
        keep = trimmed
    kept = colours[keep]
    return ScleraField(coefficients.astype(np.float32), kept.min(axis=0), kept.max(axis=0),
                       float((kept @ LUMA_BGR).mean()))


def _sclera_basis(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(u), u, u * u, t, t * t, u * t], axis=-1)


@dataclass
class _EyeLayers:
    """Everything needed to redraw one eye, worked out before any pixel is written."""

    box: tuple[int, int, int, int]
    region: np.ndarray
    """The box's pixels, float32 BGR."""
    luma: np.ndarray
    u: np.ndarray
    v: np.ndarray
    """Across the eye, in pixels."""
    t: np.ndarray
    """Across the eye from the upper lid (0) to the lower lid (1)."""
    opening: np.ndarray
    """1 inside the lids, 0 outside, antialiased."""
    from_source: np.ndarray
    """Each pixel's distance from the source iris centre."""
    sclera: ScleraField


def _prepare(frame: np.ndarray, redraw: EyeRedraw, radius: float) -> _EyeLayers | None:
    """The eye's geometry and sclera field, or None where the eye cannot be redrawn."""
    eye, shape, source = redraw.eye, redraw.shape, redraw.source
    if eye.width_px < MIN_EYE_WIDTH_PX or eye_region(eye, frame.shape) is None:
        return None
    box = _opening_box(shape, eye, frame.shape)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    region = frame[y0:y1, x0:x1].astype(np.float32)
    u, v = shape.grid(box)
    upper, lower = shape.lids(u)
    depth = shape.depth_inside(u, v, (upper, lower))
    xs = np.arange(x0, x1, dtype=np.float32) - np.float32(source[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(source[1])
    from_source = np.sqrt(xs * xs + ys * ys)
    # Small eyes show little sclera beside a large iris: where too little lies clear of the lids and
    # the limbus, the samples come closer to both.
    for lid_margin, iris_margin in ((SCLERA_LID_MARGIN_PX, hole_radius(radius) + 1.0), (0.5, draw_radius(radius))):
        sample = (depth > lid_margin) & (from_source > iris_margin)
        if np.count_nonzero(sample) >= MIN_SCLERA_SAMPLES:
            break
    else:
        return None
    t = (v - upper) / np.maximum(lower - upper, 1.0)
    return _EyeLayers(box, region, region @ LUMA_BGR, u, v, t, np.clip(depth + 0.5, 0.0, 1.0), from_source,
                      fit_sclera(u[sample], t[sample], region[sample]))


def draw_radius(radius: float) -> float:
    """How far from its centre the moved iris is drawn: the limbus and its blurred outer edge."""
    return radius * LIMBUS_SPREAD + 0.5


def hole_radius(radius: float) -> float:
    """How far from the old iris centre the sclera is redrawn, the last pixels blending into the real one."""
    return draw_radius(radius) + HOLE_FEATHER_PX


def _redraw(frame: np.ndarray, layers: _EyeLayers, redraw: EyeRedraw, radius: float, strength: float) -> None:
    """Write the redrawn eye into ``frame``."""
    x0, y0, x1, y1 = layers.box
    shape, source, target = redraw.shape, redraw.source, redraw.target
    region, u, opening = layers.region, layers.u, layers.opening
    height, width = opening.shape

    # Sclera layer, where the old iris was; its edge blends over HOLE_FEATHER_PX into the real sclera.
    hole = np.clip((hole_radius(radius) - layers.from_source) * (1.0 / HOLE_FEATHER_PX) + 0.5, 0.0, 1.0) * opening
    out = region + hole[..., None] * (layers.sclera.colour(u, layers.t) - region)

    # Iris layer: each pixel near the target takes the source pixel at the same offset from the centre.
    shift = np.asarray(target, np.float64) - source
    shift_u, shift_v = float(shift @ shape.along) / shape.half_width, float(shift @ shape.across)
    xs = np.arange(x0, x1, dtype=np.float32) - np.float32(target[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(target[1])
    from_target = np.sqrt(xs * xs + ys * ys)
    source_u, source_v = u - np.float32(shift_u), layers.v - np.float32(shift_v)
    source_lids = shape.lids(source_u)
    shown = np.clip(shape.depth_inside(source_u, source_v, source_lids) - (LID_MARGIN_PX - 0.5), 0.0, 1.0)
    # The same radius at the angle mirrored across the eye's axis through the source centre.
    _, centre_v = shape.to_eye(source)
    mirror_step = 2.0 * (np.float32(centre_v) - source_v)
    mirror_shown = np.clip(shape.depth_inside(source_u, source_v + mirror_step, source_lids) - (LID_MARGIN_PX - 0.5),
                           0.0, 1.0)
    # Both samplings in one remap: the direct one in the top half of the maps, the mirrored one below.
    maps = np.empty((2, 2 * height, width), np.float32)
    maps[0, :height] = np.arange(width, dtype=np.float32) - np.float32(shift[0])
    maps[1, :height] = np.arange(height, dtype=np.float32)[:, None] - np.float32(shift[1])
    maps[0, height:] = maps[0, :height] + mirror_step * np.float32(shape.across[0])
    maps[1, height:] = maps[1, :height] + mirror_step * np.float32(shape.across[1])
    sampled = cv2.remap(region, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    direct, mirrored = sampled[:height], sampled[height:]

    # Catchlights are bright specks on the iris; they are kept out of its texture and drawn apart.
    luma = direct @ LUMA_BGR
    inner = shown * (from_target < 0.8 * radius)
    iris_luma = float((luma * inner).sum() / max(float(inner.sum()), 1e-3))
    contrast = max(layers.sclera.luma - iris_luma, 10.0)
    texture = shown * (1.0 - _speck(luma, iris_luma, contrast))
    # The ring profile: the mean colour of the visible iris at each whole-pixel radius.
    ring = np.minimum(from_target, hole_radius(radius) + 1.0).astype(np.int32).ravel()
    weights = texture.ravel()
    counts = np.bincount(ring, weights=weights)
    sums = np.stack([np.bincount(ring, weights=weights * channel) for channel in direct.reshape(-1, 3).T], axis=1)
    mean_colour = sums.sum(axis=0) / max(float(counts.sum()), 1e-3)
    profile = np.where(counts[:, None] > 0.5, sums / np.maximum(counts[:, None], 1e-3), mean_colour).astype(np.float32)
    mirror_weight = mirror_shown[..., None]
    completed = mirror_weight * mirrored + (1.0 - mirror_weight) * profile[ring].reshape(direct.shape)
    iris = completed + texture[..., None] * (direct - completed)
    iris_alpha = np.clip(draw_radius(radius) + 0.5 - from_target, 0.0, 1.0) * opening
    out += iris_alpha[..., None] * (iris - out)

    _draw_catchlight(out, layers, source, target, radius, iris_luma, contrast, from_target)
    if strength < 1.0:
        out = region + strength * (out - region)
    frame[y0:y1, x0:x1] = np.clip(out + 0.5, 0.0, 255.0).astype(np.uint8)


def _speck(luma: np.ndarray, iris_luma: float, contrast: float) -> np.ndarray:
    """How much each pixel on the iris is a catchlight: nearly as bright as the sclera, or brighter."""
    return np.clip((luma - iris_luma - 0.85 * contrast) / (0.15 * contrast), 0.0, 1.0)


def _draw_catchlight(out: np.ndarray, layers: _EyeLayers, source: np.ndarray, target: np.ndarray, radius: float,
                     iris_luma: float, contrast: float, from_target: np.ndarray) -> None:
    """The source's catchlight, in place, pulled toward the moved iris only as far as needed to stay on it."""
    speck = _speck(layers.luma, iris_luma, contrast) * (layers.from_source < 0.8 * radius)
    mass = float(speck.sum())
    if mass < 0.5:
        return
    x0, y0 = layers.box[:2]
    height, width = speck.shape
    spot = np.array([speck.sum(axis=0) @ np.arange(width), speck.sum(axis=1) @ np.arange(height)]) / mass + (x0, y0)
    offset = spot - target
    distance = float(np.hypot(*offset))
    keep = CATCHLIGHT_KEEP * radius
    pull = offset * (keep / distance - 1.0) if distance > keep else np.zeros(2)
    colour = layers.region
    if np.any(np.abs(pull) > 0.05):
        shift = np.float32([[1, 0, pull[0]], [0, 1, pull[1]]])
        colour = cv2.warpAffine(colour, shift, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        speck = cv2.warpAffine(speck, shift, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha = (speck * layers.opening * (from_target < radius))[..., None]
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
    x0, y0, x1, y1 = region
    x0, x1 = max(x0, int(np.floor(eye.contour[:, 0].min()))), min(x1, int(np.ceil(eye.contour[:, 0].max())) + 1)
    y1 = min(y1, int(np.ceil(eye.contour[:, 1].max() + 0.25 * shape.max_opening_px)) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    u, v = shape.grid((x0, y0, x1, y1))
    upper, _ = shape.lids(u)
    opening_height = max(shape.max_opening_px, 1.0)
    drop = float(amount * opening_height / 3.0) * np.maximum(1.0 - u * u, 0.0) ** 1.5
    below_lid = v - upper
    ramp = np.clip(np.minimum(1.0 + below_lid * (1.0 / (0.4 * eye.width_px)),
                              1.0 - below_lid * (1.0 / (0.9 * opening_height))), 0.0, 1.0)
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
