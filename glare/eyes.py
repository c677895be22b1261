"""Eyes: geometry from the 68 landmarks, and upright eye crops with the transform back.

Eyes are named by the person, as dlib does: the right eye is landmarks 36-41 (on the image's
left in an unmirrored camera image), the left eye is 42-47. Each eye's six points run from the
corner on the image's left, along the upper lid, to the corner on the image's right, and back
along the lower lid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

import cv2
import numpy as np
from numba.extending import register_jitable
from numpy.typing import ArrayLike

EyeSide = Literal["right", "left"]
EYE_LANDMARKS: dict[EyeSide, slice] = {"right": slice(36, 42), "left": slice(42, 48)}


@dataclass(frozen=True)
class Eye:
    """One eye's six landmarks, in frame pixels, and the numbers every stage asks of them."""

    side: EyeSide
    contour: np.ndarray
    """(6, 2) float64: image-left corner, two upper-lid points, image-right corner, two lower-lid points."""
    # Computed once, at once, in plain floats: the renderer and the locators ask for these many times a
    # frame, and NumPy's per-call overhead on six points (with a cached_property's lock) was most of their
    # cost, 0.06 ms a face a frame.
    centre: np.ndarray = field(init=False, repr=False, compare=False)
    """The mean of the six landmarks: the trivial pupil estimate."""
    width_px: float = field(init=False, repr=False, compare=False)
    """The corners' distance."""
    openness: float = field(init=False, repr=False, compare=False)
    """Lid gap over corner distance (the eye aspect ratio): about 0.3 open, under 0.15 closed."""
    bounds: tuple[tuple[float, float], tuple[float, float]] = field(init=False, repr=False, compare=False)
    """The landmarks' bounding box: (min x, min y), (max x, max y)."""

    def __post_init__(self) -> None:
        points = np.asarray(self.contour, dtype=np.float64).tolist()
        xs, ys = [x for x, _ in points], [y for _, y in points]
        width = math.dist(points[0], points[3])
        gap = (math.dist(points[1], points[5]) + math.dist(points[2], points[4])) / 2.0
        object.__setattr__(self, "centre", np.array([sum(xs) / len(xs), sum(ys) / len(ys)]))
        object.__setattr__(self, "width_px", width)
        object.__setattr__(self, "openness", gap / max(width, 1e-6))
        object.__setattr__(self, "bounds", ((min(xs), min(ys)), (max(xs), max(ys))))

    @property
    def corners(self) -> tuple[np.ndarray, np.ndarray]:
        """The image-left and image-right corners."""
        return self.contour[0], self.contour[3]

    @property
    def roll_rad(self) -> float:
        """The angle of the corner-to-corner line against the image's x axis."""
        left, right = self.corners
        return float(np.arctan2(right[1] - left[1], right[0] - left[0]))


def eyes_from_landmarks(landmarks: np.ndarray) -> tuple[Eye, Eye]:
    """The person's (right, left) eyes from 68 dlib landmarks."""
    return (
        Eye("right", np.asarray(landmarks[EYE_LANDMARKS["right"]], dtype=np.float64)),
        Eye("left", np.asarray(landmarks[EYE_LANDMARKS["left"]], dtype=np.float64)),
    )


# The eye frame's formulas, for points given as numbers or as arrays: EyeShape uses them on arrays,
# the renderer's compiled loops (glare.render_kernels) on each pixel, which register_jitable allows.
@register_jitable
def eye_coordinates(dx: np.ndarray, dy: np.ndarray, along: Sequence[ArrayLike], across: Sequence[ArrayLike],
                    half_width: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) of points at offsets (dx, dy) from the eye's middle (see ``EyeShape``)."""
    return (dx * along[0] + dy * along[1]) / half_width, dx * across[0] + dy * across[1]


@register_jitable
def lid_curves(u: np.ndarray, upper: Sequence[ArrayLike], lower: Sequence[ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
    """v of the upper and the lower lid at ``u``, each lid's cubic given by its (a, b)."""
    bulge = 1.0 - u * u
    return bulge * (upper[0] + upper[1] * u), bulge * (lower[0] + lower[1] * u)


@register_jitable
def opening_depth(u: np.ndarray, v: np.ndarray, lids: tuple[np.ndarray, np.ndarray], half_width: ArrayLike) -> np.ndarray:
    """How far each point lies inside the opening between ``lids`` (their v at ``u``), in pixels."""
    upper, lower = lids
    # Past the corners the cubics cross again: the corners bound the opening too.
    return np.minimum(np.minimum(v - upper, lower - v), (1.0 - np.abs(u)) * half_width)


class EyeNumbers(NamedTuple):
    """An ``EyeShape`` as plain numbers, its origin counted from some pixel of the frame: what compiled
    loops over a box of pixels take."""

    origin_x: float
    origin_y: float
    along_x: float
    along_y: float
    across_x: float
    across_y: float
    half_width: float
    upper_a: float
    upper_b: float
    lower_a: float
    lower_b: float


@dataclass(frozen=True)
class EyeShape:
    """An eye's opening in its own upright frame: u runs along the corner-to-corner axis (-1 and +1 at
    the corners), v across it in pixels, downwards. Each lid is the cubic v = (1 - u^2)(a + b u)
    through both corners and its two landmarks, so the opening is known in closed form anywhere."""

    origin: np.ndarray
    """The midpoint of the corners, in frame pixels."""
    along: np.ndarray
    """Unit vector from the image-left corner to the image-right corner."""
    across: np.ndarray
    """Unit vector across the eye, downwards in an upright face."""
    half_width: float
    upper: tuple[float, float]
    lower: tuple[float, float]
    _numbers: EyeNumbers = field(init=False, repr=False, compare=False)
    """This shape as the compiled loops take it (see ``numbers``)."""

    @classmethod
    def of(cls, eye: Eye) -> EyeShape:
        # In plain floats: on arrays of six points, NumPy's per-call overhead is all the cost.
        points = eye.contour.tolist()
        (left_x, left_y), (right_x, right_y) = points[0], points[3]
        origin_x, origin_y = (left_x + right_x) / 2.0, (left_y + right_y) / 2.0
        half_width = max(math.hypot(right_x - left_x, right_y - left_y) / 2.0, 1e-3)
        along_x, along_y = (right_x - left_x) / (2.0 * half_width), (right_y - left_y) / (2.0 * half_width)

        # Each lid is the cubic through both corners (u = -1, 1 at v = 0) and its two landmarks:
        # v / (1 - u^2) = a + b u through two points.
        lids = []
        for first, second in ((1, 2), (5, 4)):
            us, rs = [], []
            for x, y in (points[first], points[second]):
                dx, dy = x - origin_x, y - origin_y
                u = min(max((dx * along_x + dy * along_y) / half_width, -0.9), 0.9)
                us.append(u)
                rs.append((dy * along_x - dx * along_y) / (1.0 - u * u))
            slope = (rs[1] - rs[0]) / (us[1] - us[0]) if abs(us[1] - us[0]) > 1e-3 else 0.0
            lids.append((rs[0] - slope * us[0], slope))
        return cls(np.array([origin_x, origin_y]), np.array([along_x, along_y]), np.array([-along_y, along_x]),
                   half_width, lids[0], lids[1])

    def __post_init__(self) -> None:
        # In plain floats once: the renderer's steps ask for them four times an eye a frame.
        object.__setattr__(self, "_numbers", EyeNumbers(
            *self.origin.tolist(), *self.along.tolist(), *self.across.tolist(), float(self.half_width),
            *(float(v) for v in (*self.upper, *self.lower))))

    def numbers(self, corner: tuple[int, int] = (0, 0)) -> EyeNumbers:
        """This shape as numbers, in the pixels of a box whose first pixel is ``corner`` (x, y) of the frame."""
        numbers = self._numbers
        if corner == (0, 0):
            return numbers
        return EyeNumbers(numbers[0] - corner[0], numbers[1] - corner[1], *numbers[2:])

    def to_eye(self, point: np.ndarray) -> tuple[float, float]:
        """(u, v) of a frame point."""
        offset = np.asarray(point, dtype=np.float64) - self.origin
        return float(offset @ self.along / self.half_width), float(offset @ self.across)

    def grid(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) of every pixel centre in ``box`` (x0, y0, x1, y1), float32 arrays of the box's shape."""
        x0, y0, x1, y1 = box
        xs = np.arange(x0, x1, dtype=np.float32) - np.float32(self.origin[0])
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(self.origin[1])
        return eye_coordinates(xs, ys, self.along.astype(np.float32), self.across.astype(np.float32),
                               np.float32(self.half_width))

    def lids(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """v of the upper and the lower lid at ``u``."""
        return lid_curves(u, self.upper, self.lower)

    def depth_inside(self, u: np.ndarray, v: np.ndarray,
                     lids: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """How far each point lies inside the opening, in pixels (negative outside); ``lids`` are
        ``self.lids(u)`` where the caller has them already."""
        return opening_depth(u, v, self.lids(u) if lids is None else lids, np.float32(self.half_width))

    @cached_property
    def max_opening_px(self) -> float:
        """The widest gap between the lids. The gap is (1 - u^2)(a + b u), a cubic: its largest value on
        -1 < u < 1 is at a root of its derivative, -3b u^2 - 2a u + b, or 0 at the corners."""
        a, b = self.lower[0] - self.upper[0], self.lower[1] - self.upper[1]
        if abs(b) < 1e-9:
            candidates = [0.0]
        else:
            root = math.sqrt(a * a + 3.0 * b * b)
            candidates = [(-a + root) / (3.0 * b), (-a - root) / (3.0 * b)]
        return max([0.0] + [(1.0 - u * u) * (a + b * u) for u in candidates if -1.0 < u < 1.0])



@dataclass(frozen=True)
class CropGeometry:
    """The size of an upright eye crop and how much of its width the eye spans."""

    width: int = 64
    height: int = 40
    eye_span: float = 0.6
    """Corner-to-corner distance as a share of the crop's width."""

    @property
    def scale_reference(self) -> float:
        return self.eye_span * self.width


@dataclass(frozen=True)
class EyeCrop:
    """An eye cut out of a frame, rotated so its corners are level and scaled to a fixed size."""

    image: np.ndarray
    """(height, width) uint8 gray."""
    eye: Eye
    to_crop: np.ndarray
    """2x3 affine transform from frame pixels to crop pixels."""
    to_frame: np.ndarray
    """2x3 affine transform from crop pixels back to frame pixels."""
    contour: np.ndarray
    """The eye's six landmarks in crop pixels."""

    # In plain floats: on one point, NumPy's per-call overhead was most of the cost (each eye's pupil, every frame).
    @property
    def frame_px_per_crop_px(self) -> float:
        return math.hypot(float(self.to_frame[0, 0]), float(self.to_frame[1, 0]))

    def point_to_frame(self, point: Sequence[float]) -> tuple[float, float]:
        (a, b, shift_x), (c, d, shift_y) = self.to_frame.tolist()
        x, y = float(point[0]), float(point[1])
        return a * x + b * y + shift_x, c * x + d * y + shift_y


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N, 2) through a 2x3 affine transform."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def rescale_points(points: np.ndarray, scale_xy: np.ndarray) -> np.ndarray:
    """Points through an image resize by (sx, sy); pixel centres stay centres: x' + 0.5 = (x + 0.5) * sx."""
    return (np.asarray(points, dtype=np.float64) + 0.5) * scale_xy - 0.5


def upright_transform(eye: Eye, geometry: CropGeometry) -> np.ndarray:
    """The 2x3 transform that levels the eye's corners and centres the eye in the crop.

    A rotation by the corners' angle and a scale, in plain arithmetic on floats: built from NumPy and
    OpenCV calls on two-element arrays it cost more than the warp it sets up, twice a face a frame."""
    scale = geometry.scale_reference / max(eye.width_px, 1e-6)
    (left_x, left_y), (right_x, right_y) = eye.contour[0].tolist(), eye.contour[3].tolist()
    width = eye.width_px
    # The corners' direction (cos, sin of the roll); a point-sized eye is taken as level.
    cos_roll, sin_roll = ((right_x - left_x) / width, (right_y - left_y) / width) if width > 1e-6 else (1.0, 0.0)
    a, b = cos_roll * scale, sin_roll * scale
    centre_x, centre_y = eye.centre.tolist()
    # Rotated and scaled about the eye's centre, which lands on the crop's centre.
    return np.array([[a, b, (geometry.width - 1) / 2.0 - (a * centre_x + b * centre_y)],
                     [-b, a, (geometry.height - 1) / 2.0 - (-b * centre_x + a * centre_y)]])


def upright_crop(frame: np.ndarray, eye: Eye, geometry: CropGeometry = CropGeometry()) -> EyeCrop:
    """Cut ``eye`` out of a uint8 gray or BGR frame as an upright gray crop of ``geometry``'s size."""
    to_crop = upright_transform(eye, geometry)
    image = cv2.warpAffine(
        frame, to_crop, (geometry.width, geometry.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return EyeCrop(image, eye, to_crop, cv2.invertAffineTransform(to_crop), apply_affine(to_crop, eye.contour))
