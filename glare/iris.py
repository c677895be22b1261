"""Iris size: anatomy first, refined by the image, held steady per face.

The visible iris is about 11.7 mm across in nearly every adult and the pupils sit about 63 mm
apart, so on a frontal face the iris radius is close to 0.093 of the distance between the eyes.
That prior is refined by the limbus seen in the frame (where the sclera either side of the iris,
along the eye, falls under halfway to the iris's brightness), and the ratio
of radius to eye distance is held steady per face: it changes only with the person, while the
eye distance itself follows the face toward or away from the camera at once.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from glare.eyes import Eye, EyeNumbers, EyeShape, lid_curves, opening_depth
from glare.render_kernels import LUMA, sample_colour

IRIS_RADIUS_PER_EYE_DISTANCE = 0.093
"""Iris radius (5.85 mm) over the distance between the eyes (63 mm)."""
EVIDENCE_RANGE = (0.85, 1.2)
"""How far the image may move the radius from the anatomical prior, as factors."""
LUMA_BGR = np.array(LUMA, np.float32)

SEARCH_REACH = 0.8
"""The iris centre is looked for this far (a share of the radius) either side of the locator's."""
MIN_LIMBUS_CONTRAST = 20.0
"""Luma steps smaller than this from iris to sclera are not taken for a limbus."""


def eye_distance_px(eyes: tuple[Eye, Eye]) -> float:
    """The distance between the two eyes' landmark centres: a steady measure of face scale."""
    return math.dist(eyes[0].centre.tolist(), eyes[1].centre.tolist())


@dataclass(frozen=True)
class IrisFit:
    """The iris as the image shows it along the eye's axis: its centre and radius where both sides of
    the limbus showed; else the locator's centre, and no radius (None)."""

    centre: np.ndarray
    radius_px: float | None


@njit(cache=True, nogil=True)
def _sclera_edge(profile: np.ndarray, start: int, stop: int, level: float, hold: int = 1) -> float:
    """Where the sclera begins going from ``start`` toward ``stop`` (exclusive): the inner end of the
    stretch of ``profile`` at or above ``level`` (at least ``hold`` samples long) that rises most above it
    in all (the sum of its excess), interpolated between samples; NaN where there is no such stretch.

    The first rise past the level from the pupil is not always the limbus: a catchlight on the pupil is
    a short one (it put the iris's middle half a radius off, and left the far side of the old iris in
    sight beside the moved one), and a light iris's own middle rises past it before its dark limbal
    ring (it read radii 0.7 of the real ones). Nor is the last: past lashes or lid shadow that cross the
    line, the skin of a corner can be brighter than the level (a tilted, narrowed eye read 1.3 radii).
    The sclera is the stretch that is both wide and bright."""
    step = 1 if stop > start else -1
    edge, best, run, run_start, excess = math.nan, 0.0, 0, start, 0.0
    for index in range(start + step, stop + step, step):
        if index != stop and profile[index] >= level:
            if run == 0:
                run_start, excess = index, 0.0
            run += 1
            excess += profile[index] - level
            continue
        if run >= hold and excess > best:
            best = excess
            before = profile[run_start - step]
            rise = profile[run_start] - before
            # Where the start itself is already past the level (a bright speck at the centre), there is
            # no rise to interpolate on: the edge is the start.
            fraction = min(max((level - before) / rise, 0.0), 1.0) if rise > 1e-6 else 0.0
            edge = run_start - step + step * fraction
        run = 0
    return edge


PROFILE_STEP_PX = 0.5
"""The spacing of the samples along the eye's axis."""
SCLERA_HOLD = 0.1
"""How far (a share of the radius, and at least a pixel) the profile must stay past halfway to be sclera: a
sliver of sclera between the iris and a corner, on a sideways glance, is often no wider than 1.5 px."""
NEAREST_EDGE = 0.35
"""How near the iris's middle (a share of its radius) an edge may lie: where no sclera shows on a side,
a catchlight is the only bright stretch there, and this near it is no limbus."""
SMALLEST_RADIUS = 0.7
"""Edges closer together than this share of the iris's diameter are no limbus either (a catchlight's
edge on one side); the radius is then not read, and the locator's centre stands."""


@njit(cache=True, nogil=True)
def _limbus_along_axis(frame: np.ndarray, eye: EyeNumbers, centre_along: float, centre_v: float,
                       radius_px: float) -> tuple[float, float]:
    """Where the iris's middle lies along the eye's axis (pixels from the eye's middle) and its radius,
    from the limbus (see ``fit_iris``); both NaN unless the limbus showed on both sides."""
    count = int(math.floor(2.0 * eye.half_width / PROFILE_STEP_PX)) + 1
    profile = np.empty(count)
    inside = np.zeros(count, np.bool_)
    lumas = np.empty(3)
    for index in range(count):
        along = -eye.half_width + index * PROFILE_STEP_PX
        for line, share in enumerate((-0.25, 0.0, 0.25)):
            across = centre_v + share * radius_px
            blue, green, red = sample_colour(frame, eye.origin_x + along * eye.along_x + across * eye.across_x,
                                             eye.origin_y + along * eye.along_y + across * eye.across_y)
            lumas[line] = LUMA[0] * blue + LUMA[1] * green + LUMA[2] * red
        # The median of the three lines, so a catchlight or a lash does not count.
        profile[index] = max(min(lumas[0], lumas[1]), min(max(lumas[0], lumas[1]), lumas[2]))
        u = along / eye.half_width
        upper, lower = lid_curves(u, (eye.upper_a, eye.upper_b), (eye.lower_a, eye.lower_b))
        inside[index] = opening_depth(u, centre_v, (upper, lower), eye.half_width) > 1.0
    valid = np.nonzero(inside)[0]
    if len(valid) < 4:
        return math.nan, math.nan
    first, last = valid[0], valid[-1]
    # The darkest window of the iris's chord near the given centre.
    window = max(int(round(1.2 * radius_px / PROFILE_STEP_PX)), 1)
    given = int(round((centre_along + eye.half_width) / PROFILE_STEP_PX))
    reach = int(round(SEARCH_REACH * radius_px / PROFILE_STEP_PX))
    sums = np.zeros(count + 1)
    sums[1:] = np.cumsum(profile)
    darkest, darkest_mean = -1, math.inf
    for candidate in range(max(given - reach, first + window // 2), min(given + reach, last - window // 2) + 1):
        mean = (sums[candidate + window - window // 2] - sums[candidate - window // 2]) / window
        if mean < darkest_mean:
            darkest, darkest_mean = candidate, mean
    if darkest < 0:
        return math.nan, math.nan
    iris_level = np.median(profile[max(darkest - window // 2, 0): darkest + window - window // 2])
    edges = np.full(2, math.nan)
    hold = max(int(round(SCLERA_HOLD * radius_px / PROFILE_STEP_PX)), 2)
    for side, stop in enumerate((first - 1, last + 1)):
        beside = profile[min(darkest, stop + 1): max(darkest, stop - 1) + 1]
        sclera_level = beside.max() if len(beside) else iris_level
        if sclera_level - iris_level >= MIN_LIMBUS_CONTRAST:
            edge = _sclera_edge(profile, darkest, stop, (iris_level + sclera_level) / 2.0, hold)
            if abs(edge - darkest) * PROFILE_STEP_PX >= NEAREST_EDGE * radius_px:
                edges[side] = edge
    low, high = edges[0], edges[1]
    # One side alone puts the middle a radius from it, and the radius is the face's prior: an iris 15% larger
    # than it was put 1-2 px off, and on the labelled photos such fits fell far behind the locator, where
    # fits from both sides come close to it (scripts/limbus_fit_on_photos.py, docs/rendering.md).
    if math.isnan(low) or math.isnan(high) or (high - low) * PROFILE_STEP_PX < 2.0 * SMALLEST_RADIUS * radius_px:
        return math.nan, math.nan
    return (low + high) / 2.0 * PROFILE_STEP_PX - eye.half_width, (high - low) / 2.0 * PROFILE_STEP_PX


def fit_iris(frame: np.ndarray, shape: EyeShape, centre: np.ndarray, radius_px: float) -> IrisFit:
    """The iris of the eye of ``shape`` in ``frame`` (BGR uint8) near ``centre``, from the brightness along the eye.

    Three lines along the eye's axis (through the centre and a quarter radius above and below,
    each point the median of the three, so a lash or a small catchlight does not count) give a profile:
    the iris is its darkest stretch of the iris's width near ``centre``, and the limbus on each
    side is where the sclera beside it ends, coming inward: the profile falls under halfway from the
    sclera to that iris (``_sclera_edge``). Where both sides show, their middle is where the render takes
    the iris from: the disc the viewer sees, which the locator's pupil (smoothed over frames, and a pixel
    or so off on a fast glance) need not be. Where one side is hidden, the locator's centre stands.
    """
    centre_along, centre_v = shape.to_eye(centre)
    along, radius = _limbus_along_axis(frame, shape.numbers(), centre_along * shape.half_width, centre_v, radius_px)
    if math.isnan(along):
        return IrisFit(np.asarray(centre, np.float64), None)
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
            seen = min(max(statistics.median(evidence_px) / prior, low), high)
            # Prior and evidence weigh the same (a geometric mean): neither alone is trusted.
            goal = IRIS_RADIUS_PER_EYE_DISTANCE * math.sqrt(seen)
            if self._last_time_s is None:
                self.ratio = goal
            else:
                elapsed = max(time_s - self._last_time_s, 0.0)
                self.ratio += (1.0 - math.exp(-elapsed / self.hold_s)) * (goal - self.ratio)
            self._last_time_s = time_s
        return self.ratio * eye_distance
