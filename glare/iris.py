"""Iris size: anatomy first, refined by the image, held steady per face.

The visible iris is about 11.7 mm across in nearly every adult and the pupils sit about 63 mm
apart, so on a frontal face the iris radius is close to 0.093 of the distance between the eyes.
That prior is refined by the limbus seen in the frame (where the radial brightness, along the
horizontal arcs that the lids do not cover, crosses halfway from iris to sclera), and the ratio
of radius to eye distance is held steady per face: it changes only with the person, while the
eye distance itself follows the face toward or away from the camera at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from glare.eyes import Eye, EyeShape

IRIS_RADIUS_PER_EYE_DISTANCE = 0.093
"""Iris radius (5.85 mm) over the distance between the eyes (63 mm)."""
EVIDENCE_RANGE = (0.85, 1.2)
"""How far the image may move the radius from the anatomical prior, as factors."""
LUMA_BGR = np.array([0.114, 0.587, 0.299], np.float32)

SEARCH_REACH = 0.8
"""The iris centre is looked for this far (a share of the radius) either side of the locator's."""
MIN_LIMBUS_CONTRAST = 20.0
"""Luma steps smaller than this from iris to sclera are not taken for a limbus."""


def eye_distance_px(eyes: tuple[Eye, Eye]) -> float:
    """The distance between the two eyes' landmark centres: a steady measure of face scale."""
    return float(np.linalg.norm(eyes[0].centre - eyes[1].centre))


@dataclass(frozen=True)
class IrisFit:
    """The iris as the image shows it along the eye's axis: its centre, and its radius where both
    sides of the limbus showed (None otherwise)."""

    centre: np.ndarray
    radius_px: float | None


def _crossing(profile: np.ndarray, start: int, stop: int, level: float) -> float | None:
    """The first position from ``start`` toward ``stop`` (exclusive) where ``profile`` reaches ``level``,
    interpolated between samples."""
    step = 1 if stop > start else -1
    for index in range(start + step, stop, step):
        if profile[index] >= level:
            before = profile[index - step]
            rise = profile[index] - before
            # Where the start itself is already past the level (a bright speck at the centre), there is
            # no rise to interpolate on: the crossing is the start.
            fraction = min(max((level - before) / rise, 0.0), 1.0) if rise > 1e-6 else 0.0
            return index - step + step * fraction
    return None


def fit_iris(frame: np.ndarray, shape: EyeShape, centre: np.ndarray, radius_px: float) -> IrisFit:
    """The iris of the eye of ``shape`` in ``frame`` (BGR uint8) near ``centre``, from the brightness along the eye.

    Three lines along the eye's axis (through the centre and a quarter radius above and below,
    each point the median of the three, so a catchlight or a lash does not count) give a profile:
    the iris is its darkest stretch of the iris's width near ``centre``, and the limbus on each
    side is where the profile rises halfway from that iris to the sclera beside it. The locator's
    centre can be a pixel or more off on a fast or sideways glance; the limbus is not.
    """
    _, centre_v = shape.to_eye(centre)
    step_px = 0.5
    along_px = np.arange(-shape.half_width, shape.half_width + step_px, step_px)
    offsets = np.array([-0.25, 0.0, 0.25]) * radius_px + centre_v
    points = (shape.origin + along_px[None, :, None] * shape.along + offsets[:, None, None] * shape.across)
    samples = cv2.remap(frame, points[..., 0].astype(np.float32), points[..., 1].astype(np.float32),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    above, middle, below = samples.astype(np.float32) @ LUMA_BGR
    profile = np.maximum(np.minimum(above, middle), np.minimum(np.maximum(above, middle), below))
    inside = shape.depth_inside(along_px / shape.half_width, np.full_like(along_px, centre_v)) > 1.0
    if inside.sum() < 4:
        return IrisFit(np.asarray(centre, np.float64), None)
    valid = np.nonzero(inside)[0]
    first, last = int(valid[0]), int(valid[-1])
    # The darkest window of the iris's chord near the given centre.
    window = max(int(round(1.2 * radius_px / step_px)), 1)
    sums = np.concatenate([[0.0], np.cumsum(profile)])
    given = int(round((float((np.asarray(centre) - shape.origin) @ shape.along) + shape.half_width) / step_px))
    reach = int(round(SEARCH_REACH * radius_px / step_px))
    candidates = np.arange(max(given - reach, first + window // 2), min(given + reach, last - window // 2) + 1)
    if len(candidates) == 0:
        return IrisFit(np.asarray(centre, np.float64), None)
    means = (sums[candidates + window - window // 2] - sums[candidates - window // 2]) / window
    darkest = int(candidates[int(np.argmin(means))])
    iris = profile[max(darkest - window // 2, 0): darkest + window - window // 2]
    middle = (len(iris) - 1) // 2, len(iris) // 2
    iris_level = float(np.partition(iris, middle)[list(middle)].mean())  # the median, without np.median's overhead
    edges = []
    for stop in (first - 1, last + 1):
        side = profile[min(darkest, stop + 1): max(darkest, stop - 1) + 1]
        sclera_level = float(side.max()) if len(side) else iris_level
        if sclera_level - iris_level < MIN_LIMBUS_CONTRAST:
            edges.append(None)
            continue
        edges.append(_crossing(profile, darkest, stop, (iris_level + sclera_level) / 2.0))
    low, high = edges
    if low is not None and high is not None:
        middle, radius = (low + high) / 2.0 * step_px, (high - low) / 2.0 * step_px
    elif low is not None:
        middle, radius = low * step_px + radius_px, None
    elif high is not None:
        middle, radius = high * step_px - radius_px, None
    else:
        return IrisFit(np.asarray(centre, np.float64), None)
    along = middle - shape.half_width
    return IrisFit(shape.origin + along * shape.along + centre_v * shape.across, radius)


@dataclass
class IrisSize:
    """One face's iris radius, held steady: ``update`` once a frame, with both eyes' evidence."""

    hold_s: float = 1.0
    """Time constant over which the image's evidence moves the radius-to-eye-distance ratio."""
    ratio: float = IRIS_RADIUS_PER_EYE_DISTANCE
    _last_time_s: float | None = field(default=None, repr=False)

    def radius_px(self, eye_distance: float) -> float:
        """The held radius for a face whose eyes are ``eye_distance`` pixels apart."""
        return self.ratio * eye_distance

    def update(self, eye_distance: float, evidence_px: list[float], time_s: float) -> float:
        """The iris radius in pixels for this frame; ``evidence_px`` holds the limbus radii seen (maybe none)."""
        prior = IRIS_RADIUS_PER_EYE_DISTANCE * eye_distance
        if evidence_px and prior > 0:
            low, high = EVIDENCE_RANGE
            seen = float(np.clip(np.median(evidence_px) / prior, low, high))
            # Prior and evidence weigh the same (a geometric mean): neither alone is trusted.
            goal = IRIS_RADIUS_PER_EYE_DISTANCE * math.sqrt(seen)
            if self._last_time_s is None:
                self.ratio = goal
            else:
                elapsed = max(time_s - self._last_time_s, 0.0)
                self.ratio += (1.0 - math.exp(-elapsed / self.hold_s)) * (goal - self.ratio)
            self._last_time_s = time_s
        return self.ratio * eye_distance
