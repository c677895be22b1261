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
IRIS_ROOM_TUCK = 0.8
"""How much of its radius the iris may tuck under a corner at full intensity."""
LIMBUS_SPREAD = 1.1
"""The drawn iris reaches this far past the limbus radius (as a factor, plus half a pixel): the
limbal ring's blurred outer edge belongs to the iris, not the sclera."""
LID_MARGIN_PX = 1.0
"""Iris pixels closer than this to a lid line are lash and lid shadow, not iris: they are completed."""
SCLERA_LID_MARGIN_PX = 1.5
"""Sclera samples keep this far from the lid lines, where lashes darken them."""
SCLERA_RIDGE = 2.0
"""Pulls the sclera field toward a flat colour where the visible sclera says little (one side only)."""
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
    basis = _sclera_basis(u, t)
    ridge = np.sqrt(SCLERA_RIDGE) * np.eye(6, dtype=np.float32)[1:]
    keep = np.ones(len(colours), bool)
    for _ in range(3):
        design = np.concatenate([basis[keep], ridge])
        wanted = np.concatenate([colours[keep], np.zeros((5, 3), np.float32)])
        coefficients = np.linalg.lstsq(design, wanted, rcond=None)[0]
        residual = (colours - basis @ coefficients) @ LUMA_BGR
        spread = 1.4826 * float(np.median(np.abs(residual[keep]))) + 2.0
        # What is darker than the field is trimmed hard: the sclera is the bright part of the opening.
        trimmed = (residual > -spread) & (residual < 3.0 * spread)
        if trimmed.sum() < 6:
            break
        keep = trimmed
    kept = colours[keep]
    return ScleraField(coefficients, kept.min(axis=0), kept.max(axis=0), float(np.median(kept @ LUMA_BGR)))


def _sclera_basis(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(u), u, u * u, t, t * t, u * t], axis=-1)


@dataclass
class _EyeLayers:
    """Everything needed to redraw one eye, worked out before any pixel is written."""

    box: tuple[int, int, int, int]
    region: np.ndarray
    """The box's pixels, float32 BGR."""
    shape: EyeShape
    u: np.ndarray
    v: np.ndarray
    """Across the eye, in pixels."""
    t: np.ndarray
    """Across the eye from the upper lid (0) to the lower lid (1)."""
    depth: np.ndarray
    sclera: ScleraField


def _prepare(frame: np.ndarray, eye: Eye, source: np.ndarray, radius: float) -> _EyeLayers | None:
    """The eye's geometry and sclera field, or None where the eye cannot be redrawn."""
    if eye.width_px < MIN_EYE_WIDTH_PX or eye_region(eye, frame.shape) is None:
        return None
    shape = EyeShape.of(eye)
    box = _opening_box(shape, eye, frame.shape)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    region = frame[y0:y1, x0:x1].astype(np.float32)
    u, v = shape.grid(box)
    depth = shape.depth_inside(u, v)
    upper, lower = shape.lids(u)
    xs = np.arange(x0, x1, dtype=np.float32) - np.float32(source[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(source[1])
    sample = (depth > SCLERA_LID_MARGIN_PX) & (xs * xs + ys * ys > (radius * LIMBUS_SPREAD + 2.0) ** 2)
    if sample.sum() < 8:
        return None
    t = (v - upper) / np.maximum(lower - upper, 1.0)
    return _EyeLayers(box, region, shape, u, v, t, depth, fit_sclera(u[sample], t[sample], region[sample]))


def _redraw(frame: np.ndarray, layers: _EyeLayers, source: np.ndarray, target: np.ndarray, radius: float,
            strength: float) -> None:
    """Write the redrawn eye into ``frame``."""
    x0, y0, x1, y1 = layers.box
    region, shape, u, depth = layers.region, layers.shape, layers.u, layers.depth
    height, width = depth.shape
    opening = np.clip(depth + 0.5, 0.0, 1.0)
    draw_radius = radius * LIMBUS_SPREAD + 0.5
    hole_radius = draw_radius + 0.5

    # Sclera layer, where the old iris was.
    xs = np.arange(x0, x1, dtype=np.float32)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    from_source = np.sqrt((xs - np.float32(source[0])) ** 2 + (ys - np.float32(source[1])) ** 2)
    hole = np.clip(hole_radius + 0.5 - from_source, 0.0, 1.0) * opening
    field = layers.sclera.colour(u, layers.t)
    out = region + hole[..., None] * (field - region)

    # Iris layer: each pixel near the target takes the source pixel at the same offset from the centre.
    shift = np.asarray(target, np.float64) - source
    shift_u, shift_v = float(shift @ shape.along) / shape.half_width, float(shift @ shape.across)
    from_target = np.sqrt((xs - np.float32(target[0])) ** 2 + (ys - np.float32(target[1])) ** 2)
    local_x = np.empty((height, width), np.float32)
    local_y = np.empty((height, width), np.float32)
    local_x[:] = np.arange(width, dtype=np.float32) - np.float32(shift[0])
    local_y[:] = np.arange(height, dtype=np.float32)[:, None] - np.float32(shift[1])
    source_u, source_v = u - np.float32(shift_u), layers.v - np.float32(shift_v)
    direct = cv2.remap(region, local_x, local_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shown = np.clip(shape.depth_inside(source_u, source_v) - LID_MARGIN_PX + 0.5, 0.0, 1.0)
    # The same radius at the angle mirrored across the eye's axis through the source centre.
    _, centre_v = shape.to_eye(source)
    mirror_step = 2.0 * (np.float32(centre_v) - source_v)
    mirrored = cv2.remap(region, local_x + mirror_step * np.float32(shape.across[0]),
                         local_y + mirror_step * np.float32(shape.across[1]), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    mirror_shown = np.clip(shape.depth_inside(source_u, source_v + mirror_step) - LID_MARGIN_PX + 0.5, 0.0, 1.0)

    # Catchlights are bright specks on the iris; they are kept out of its texture and drawn apart.
    luma = direct @ LUMA_BGR
    inner = shown * (from_target < 0.8 * radius)
    iris_luma = float((luma * inner).sum() / max(inner.sum(), 1e-3))
    contrast = max(layers.sclera.luma - iris_luma, 10.0)
    speck = _speck(luma, iris_luma, contrast)
    shown_texture = shown * (1.0 - speck)
    ring = np.minimum(from_target, hole_radius + 1.0).astype(np.int32).ravel()
    weights = shown_texture.ravel()
    counts = np.bincount(ring, weights=weights, minlength=int(hole_radius) + 2)
    sums = np.stack([np.bincount(ring, weights=weights * direct[..., c].ravel(), minlength=len(counts)) for c in range(3)], 1)
    mean_colour = sums.sum(axis=0) / max(counts.sum(), 1e-3)
    profile = np.where(counts[:, None] > 0.5, sums / np.maximum(counts[:, None], 1e-3), mean_colour).astype(np.float32)
    completed = mirror_shown[..., None] * mirrored + (1.0 - mirror_shown[..., None]) * profile[ring].reshape(direct.shape)
    iris = shown_texture[..., None] * direct + (1.0 - shown_texture[..., None]) * completed
    iris_alpha = np.clip(draw_radius + 0.5 - from_target, 0.0, 1.0) * opening
    out += iris_alpha[..., None] * (iris - out)

    _draw_catchlight(out, region, source, target, radius, iris_luma, contrast, from_source, from_target, opening, xs, ys)
    if strength < 1.0:
        out = region + strength * (out - region)
    frame[y0:y1, x0:x1] = np.clip(out + 0.5, 0.0, 255.0).astype(np.uint8)


def _speck(luma: np.ndarray, iris_luma: float, contrast: float) -> np.ndarray:
    """How much each pixel on the iris is a catchlight: nearly as bright as the sclera, or brighter."""
    return np.clip((luma - iris_luma - 0.85 * contrast) / (0.15 * contrast), 0.0, 1.0)


def _draw_catchlight(out: np.ndarray, region: np.ndarray, source: np.ndarray, target: np.ndarray, radius: float,
                     iris_luma: float, contrast: float, from_source: np.ndarray, from_target: np.ndarray,
                     opening: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    """The source's catchlight, in place, pulled toward the moved iris only as far as needed to stay on it."""
    luma = region @ LUMA_BGR
    speck = _speck(luma, iris_luma, contrast) * (from_source < 0.8 * radius)
    mass = float(speck.sum())
    if mass < 0.5:
        return
    spot = np.array([(speck * xs).sum(), (speck * ys).sum()]) / mass
    offset = spot - target
    distance = float(np.hypot(*offset))
    keep = CATCHLIGHT_KEEP * radius
    pull = offset * (keep / distance - 1.0) if distance > keep else np.zeros(2)
    if np.any(np.abs(pull) > 0.05):
        height, width = speck.shape
        map_x = np.empty((height, width), np.float32)
        map_y = np.empty((height, width), np.float32)
        map_x[:] = np.arange(width, dtype=np.float32) - np.float32(pull[0])
        map_y[:] = np.arange(height, dtype=np.float32)[:, None] - np.float32(pull[1])
        colour = cv2.remap(region, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        speck = cv2.remap(speck, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    else:
        colour = region
    alpha = (speck * opening * (from_target < radius))[..., None]
    out += alpha * (colour - out)


def _squint(frame: np.ndarray, eye: Eye, amount: float) -> None:
    """Lower the upper lid by ``amount`` (0-1) of a third of the opening: content above it slides down.

    Over the skin above the lid the shift grows to the full drop; below the lid it fades out.
    Nothing moves further than 0.4 eye widths above the lid, which keeps the change near the eye.
    """
    box = eye_region(eye, frame.shape)
    if box is None:
        return
    x0, y0, x1, y1 = box
    shape = EyeShape.of(eye)
    u, v = shape.grid(box)
    upper, lower = shape.lids(u)
    opening_height = max(shape.max_opening_px, 1.0)
    bump = np.clip(1.0 - u * u, 0.0, 1.0) ** 1.5
    drop = amount * opening_height / 3.0 * bump
    above_span = 0.4 * eye.width_px
    below_span = 0.9 * opening_height
    below_lid = v - upper
    ramp = np.where(below_lid <= 0, np.clip(1.0 + below_lid / above_span, 0.0, 1.0),
                    np.clip(1.0 - below_lid / below_span, 0.0, 1.0))
    displacement = drop * ramp
    height, width = u.shape
    map_x = (np.arange(width, dtype=np.float32) - displacement * np.float32(shape.across[0])).astype(np.float32)
    map_y = (np.arange(height, dtype=np.float32)[:, None] - displacement * np.float32(shape.across[1])).astype(np.float32)
    region = frame[y0:y1, x0:x1]
    frame[y0:y1, x0:x1] = cv2.remap(np.ascontiguousarray(region), map_x, map_y, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)


def render_face(frame: np.ndarray, redraws: Sequence[EyeRedraw], iris_radius_px: float, squint: float = 0.0,
                strength: float = 1.0) -> bool:
    """Redraw a face's eyes in ``frame`` (BGR uint8, changed in place): each iris moved from its source to
    its target, of radius ``iris_radius_px`` (the limbus), ``squint`` (0-1) lowering the upper lids and
    ``strength`` (0-1) blending the redrawn eyes over the real ones. Either every eye is redrawn or,
    where one cannot be (too small, off the frame, no sclera in sight), none is: returns which."""
    prepared = [_prepare(frame, redraw.eye, redraw.source, iris_radius_px) for redraw in redraws]
    if not prepared or any(layers is None for layers in prepared):
        return False
    for redraw, layers in zip(redraws, prepared):
        _redraw(frame, layers, redraw.source, redraw.target, iris_radius_px, strength)
        if squint > 0.0:
            _squint(frame, redraw.eye, squint * strength)
    return True
