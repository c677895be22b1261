"""The mean-shift pupil locator: a window slides to the darkest mass of the eye opening.

The crop is smoothed, each pixel inside the eye opening is weighted by how dark it is (the iris
and pupil are the darkest large blob between the lids; lashes hug the lid line and are
down-weighted near it), and a Gaussian window moves to the weighted centre of mass in 2-D until
it stops. Several starts across the eye let it find an iris that sits in a corner; the start
whose mode holds the most dark mass wins. The output is sub-pixel by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numba
import numpy as np

from glare.eyes import CropGeometry, EyeCrop
from glare.openness import pupil_visibility
from glare.pupils import IRIS_RADIUS_PER_EYE_WIDTH, CropPupil, Pupil, not_found, to_frame


@dataclass(frozen=True)
class MeanShiftSettings:
    blur_sigma_px: float = 1.0
    darkness_gamma: float = 1.5
    """Higher values make the darkest pixels (the pupil) count more against grey skin and shadow."""
    window_sigma: float = 1.0
    """The Gaussian window's sigma as a share of the expected iris radius."""
    starts: int = 3
    lid_margin_px: float = 3.0
    """Pixels closer than this to the lid line count less, so lashes do not pull the window up."""
    max_iterations: int = 25
    min_eye_width_px: float = 6.0
    """Eyes narrower than this in the frame are too small to locate a pupil in."""


def darkness_weights(crop: EyeCrop, settings: MeanShiftSettings) -> np.ndarray | None:
    """Per-pixel weights in [0, 1] (float64, the crop's shape): dark pixels well inside the lids weigh most."""
    image = cv2.GaussianBlur(crop.image, (0, 0), settings.blur_sigma_px).astype(np.float32)
    mask = np.zeros(crop.image.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(crop.contour * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    inside = mask > 127
    if inside.sum() < 12:
        return None
    values = image[inside]
    dark, bright = np.percentile(values, (5, 95))
    if bright - dark < 8:
        return None
    darkness = np.clip((bright - image) / (bright - dark), 0.0, 1.0) ** settings.darkness_gamma
    lid_distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    return darkness * np.clip(lid_distance / settings.lid_margin_px, 0.0, 1.0)


@numba.njit(cache=True, fastmath=True)
def shift_to_modes(weights: np.ndarray, starts: np.ndarray, sigma: float, max_iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean-shift every start (S, 2) over ``weights`` with a Gaussian window; returns modes and their mass.

    Compiled by Numba: this runs for every eye the model is unsure of, up to 25 steps of a few starts;
    as NumPy calls it took 0.57 ms an eye, mostly the calls' overhead, compiled 0.075 (``fastmath`` lets
    the sums vectorise; the modes agree with the NumPy version's to 1e-12 px). The window is separable:
    each step weighs the columns by the window's x-profile, then the rows by its y-profile.
    """
    height, width = weights.shape
    count = starts.shape[0]
    points = starts.astype(np.float64).copy()
    mass = np.zeros(count)
    inv_two_var = 1.0 / (2.0 * sigma * sigma)
    kernel_x = np.empty(width)
    kernel_y = np.empty(height)
    for _ in range(max_iterations):
        step = 0.0
        for index in range(count):
            x, y = points[index, 0], points[index, 1]
            for column in range(width):
                kernel_x[column] = np.exp(-((column - x) ** 2) * inv_two_var)
            for row in range(height):
                kernel_y[row] = np.exp(-((row - y) ** 2) * inv_two_var)
            total, sum_x, sum_y = 0.0, 0.0, 0.0
            for row in range(height):
                row_total, row_x = 0.0, 0.0
                for column in range(width):
                    weighted = weights[row, column] * kernel_x[column]
                    row_total += weighted
                    row_x += weighted * column
                total += row_total * kernel_y[row]
                sum_x += row_x * kernel_y[row]
                sum_y += row_total * kernel_y[row] * row
            total += 1e-9
            new_x, new_y = sum_x / total, sum_y / total
            step = max(step, abs(new_x - x), abs(new_y - y))
            points[index, 0], points[index, 1] = new_x, new_y
            mass[index] = total
        if step < 0.01:
            break
    return points, mass


def warm_up() -> None:
    """Compile ``shift_to_modes``, or load it from the disk cache, before the first frame needs it: for the
    weights ``darkness_weights`` gives (float64). Warmed for float32 weights, the first eye the model was
    unsure of loaded another version on the frame's path (7 ms, woman_expressions.mp4 frame 9)."""
    shift_to_modes(np.ones((4, 4)), np.array([[1.0, 1.0]]), 1.0, 1)


_RING_RADII = np.linspace(0.65, 1.4, 16)
"""The radii ``iris_radius`` tries, in expected radii."""
_RING_ANGLES = np.deg2rad(np.concatenate([np.linspace(-40, 40, 9), np.linspace(140, 220, 9)]))
_RING_X = (np.cos(_RING_ANGLES)[None, :] * _RING_RADII[:, None]).astype(np.float32)
_RING_Y = (np.sin(_RING_ANGLES)[None, :] * _RING_RADII[:, None]).astype(np.float32)


def iris_radius(image: np.ndarray, centre: np.ndarray, expected: float) -> float:
    """The radius where the left and right arcs around ``centre`` brighten most (iris to sclera).

    Only the arcs within 40 degrees of horizontal are used: the lids cover the iris above and below.
    The rings are fixed in expected radii and computed once (this runs for every eye of every frame).
    """
    return float(iris_radii([image], np.asarray(centre)[None], expected)[0])


def iris_radii(images: Sequence[np.ndarray], centres: np.ndarray, expected: float) -> np.ndarray:
    """``iris_radius`` of several eyes (their crops and (N, 2) centres), in one step after the sampling:
    the model's eyes of a frame go together, where the NumPy calls on each eye's 16 x 18 ring cost
    more than their arithmetic."""
    rings = np.empty((len(images), *_RING_X.shape), np.uint8)
    ring_x, ring_y = _rings_of(float(expected))
    for ring, image, (x, y) in zip(rings, images, np.asarray(centres, np.float32)):
        cv2.remap(image, x + ring_x, y + ring_y, cv2.INTER_LINEAR, dst=ring, borderMode=cv2.BORDER_REPLICATE)
    return expected * _RING_RADII[np.argmax(_gradient_along_rings(rings.mean(axis=2)), axis=1)]


@lru_cache(maxsize=8)
def _rings_of(expected: float) -> tuple[np.ndarray, np.ndarray]:
    """The rings' offsets (x, y) for an expected radius: one radius a locator, so computed once, not per eye."""
    return _RING_X * np.float32(expected), _RING_Y * np.float32(expected)


def _gradient_along_rings(means: np.ndarray) -> np.ndarray:
    """``np.gradient(means, axis=1)``, the same numbers (central differences, one-sided at the ends) at a
    tenth of its cost on a few rings: its generic set-up was half the iris radii's time."""
    gradient = np.empty_like(means)
    gradient[:, 1:-1] = (means[:, 2:] - means[:, :-2]) / 2.0
    gradient[:, 0] = means[:, 1] - means[:, 0]
    gradient[:, -1] = means[:, -1] - means[:, -2]
    return gradient


def confidence(image: np.ndarray, weights_inside: np.ndarray, centre: np.ndarray, radius: float, openness: float) -> float:
    """How sure the locator is: a dark disc against brighter sclera, in an eye that is open."""
    height, width = image.shape
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.hypot(xx - centre[0], yy - centre[1])
    iris = weights_inside & (distance < 0.7 * radius)
    sclera = weights_inside & (distance > 1.3 * radius)
    if iris.sum() < 3 or sclera.sum() < 3:
        return 0.0
    contrast = float(np.median(image[sclera]) - np.median(image[iris]))
    contrast_score = np.clip(contrast / 40.0, 0.0, 1.0)
    return float(contrast_score * pupil_visibility(openness))


class MeanShiftLocator:
    """Pupils by 2-D mean-shift over darkness, starting from the eye's centre and across it."""

    name = "meanshift"

    def __init__(self, settings: MeanShiftSettings = MeanShiftSettings(), geometry: CropGeometry = CropGeometry()):
        self.settings = settings
        self.geometry = geometry
        warm_up()

    def locate(self, crops: Sequence[EyeCrop]) -> list[Pupil]:
        return [self._locate_one(crop) for crop in crops]

    def locate_in_crop(self, crop: EyeCrop) -> CropPupil | None:
        """The pupil in crop pixels, or None when the crop shows no usable eye."""
        settings = self.settings
        if crop.eye.width_px < settings.min_eye_width_px or pupil_visibility(crop.eye.openness) == 0.0:
            return None
        weights = darkness_weights(crop, settings)
        if weights is None:
            return None
        expected_radius = IRIS_RADIUS_PER_EYE_WIDTH * self.geometry.scale_reference
        centre = crop.contour.mean(axis=0)
        left, right = crop.contour[0], crop.contour[3]
        spread = np.linspace(-0.5, 0.5, settings.starts)[:, None]
        starts = centre + spread * (right - left) * 0.8
        modes, mass = shift_to_modes(weights, starts, settings.window_sigma * expected_radius, settings.max_iterations)
        best = modes[int(np.argmax(mass))]
        radius = iris_radius(crop.image, best, expected_radius)
        score = confidence(crop.image, weights > 0, best, radius, crop.eye.openness)
        return CropPupil((float(best[0]), float(best[1])), radius, score)

    def _locate_one(self, crop: EyeCrop) -> Pupil:
        found = self.locate_in_crop(crop)
        return not_found(crop) if found is None else to_frame(crop, found)
