"""Frames around faces: boxes, gray copies at a scale (the fast way for large images), a face's
region for the landmark predictor, and the thumbnail that tells a cut from motion."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit

Box = tuple[float, float, float, float]
"""left, top, right, bottom in frame pixels."""

@dataclass(frozen=True)
class FaceRegion:
    """A face's surroundings, what the landmark predictor and the scene-change check read: a view of the
    frame (gray or BGR: the predictor converts the pixels it reads, and the check its few), or a gray copy
    shrunk by a whole factor where the face is large and that was asked for."""

    image: np.ndarray
    origin: tuple[int, int]
    """The region's top-left corner in frame pixels."""
    shrink: int = 1
    """Frame pixels per region pixel (each region pixel is the mean of shrink x shrink frame pixels)."""

    @staticmethod
    def around(image: np.ndarray, box: Box, max_face_px: float | None = None) -> FaceRegion:
        """``box`` with a quarter of its size round it (the predictor's reach), clipped to the image; where
        the box lies outside the image, the whole image (the fit lands on a border pixel rather than raise).

        With ``max_face_px``, a box wider than twice that is shrunk by the whole factor that keeps it at
        least that wide, through OpenCV's fast area-averaging path for a whole factor (off by default: see
        ``TrackerSettings.landmark_face_px``).
        """
        left, top, right, bottom = (int(round(v)) for v in box)
        margin_x, margin_y = (right - left) // 4 + 2, (bottom - top) // 4 + 2
        x0, y0 = max(left - margin_x, 0), max(top - margin_y, 0)
        x1, y1 = min(right + margin_x, image.shape[1]), min(bottom + margin_y, image.shape[0])
        if x1 - x0 < 2 or y1 - y0 < 2:
            x0, y0, x1, y1 = 0, 0, image.shape[1], image.shape[0]
        shrink = max(int((right - left) // max_face_px), 1) if max_face_px else 1
        if min(x1 - x0, y1 - y0) < 2 * shrink:
            shrink = 1
        # Blocks on a grid fixed to the frame: a box that moves by a pixel does not resample the face.
        x0, y0 = x0 // shrink * shrink, y0 // shrink * shrink
        surroundings = image[y0:y1, x0:x1]
        return FaceRegion(shrunk_gray(surroundings, shrink) if shrink > 1 else surroundings, (x0, y0), shrink)

    def to_region(self, box: Box) -> Box:
        """A box in frame pixels, in this region's pixels."""
        x0, y0 = self.origin
        k = self.shrink
        return (box[0] - x0) / k, (box[1] - y0) / k, (box[2] - x0) / k, (box[3] - y0) / k

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) region pixels in frame pixels: a region pixel's centre is its block's centre."""
        origin = np.asarray(self.origin, dtype=np.float64)
        if self.shrink == 1:
            return points + origin  # every frame's case (no shrink): the same numbers, two NumPy calls fewer
        return points * self.shrink + (self.shrink - 1) / 2 + origin

    def thumbnail(self, box: Box) -> np.ndarray | None:
        """``box_thumbnail`` of this region's frame."""
        return box_thumbnail(self.image, self.to_region(box))


def to_gray(image: np.ndarray) -> np.ndarray:
    """A contiguous uint8 gray copy of a gray or BGR image."""
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def shrunk_gray(image: np.ndarray, whole: int) -> np.ndarray:
    """A gray copy of ``image`` shrunk by a whole factor, each pixel the mean of whole x whole (the last
    rows and columns that do not fill a block are left out). Gray first: converting the larger image
    and averaging one channel is three times faster than averaging three and converting."""
    if whole <= 1:
        return to_gray(image)
    height, width = image.shape[:2]
    image = image[: height // whole * whole, : width // whole * whole]
    return cv2.resize(to_gray(image), (width // whole, height // whole), interpolation=cv2.INTER_AREA)


EXACT_AREA_MAX_PIXELS = 500_000
"""Images up to this many pixels (a 640x360 frame has 230,400) are shrunk by OpenCV's exact area
resize; larger ones the fast way (see ``scaled_gray``), where the exact resize costs milliseconds."""


def scaled_gray(image: np.ndarray, scale: float) -> np.ndarray:
    """A gray copy of ``image`` scaled by about ``scale`` (its pixels' sizes in the result: round(w * scale)).

    A large image is shrunk by area averaging over a whole factor first, which OpenCV does about ten
    times faster than by any other factor (a 1080p frame took 5 ms the direct way), then linearly by
    the factor under 2 that is left. Enlargements are linear.
    """
    if scale >= 1.0:
        gray = to_gray(image)
        return gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    height, width = image.shape[:2]
    size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
    whole = int(1.0 / scale)
    if height * width <= EXACT_AREA_MAX_PIXELS or min(width, height) < whole:
        return to_gray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    gray = shrunk_gray(image, whole)
    return gray if (gray.shape[1], gray.shape[0]) == size else cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)


def rect_box(rect) -> Box:
    """A dlib rectangle as a Box."""
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def box_in_frame(box: Box, scale: float, origin: tuple[float, float] = (0.0, 0.0)) -> Box:
    """A box found in a copy of a frame's region (corner at ``origin``) scaled by ``scale``, in frame pixels."""
    x0, y0 = origin
    return box[0] / scale + x0, box[1] / scale + y0, box[2] / scale + x0, box[3] / scale + y0


def landmark_bounds(landmarks: np.ndarray) -> Box:
    """The bounding box (x0, y0, x1, y1) of (N, 2) points."""
    return _bounds(np.ascontiguousarray(landmarks, dtype=np.float64))


@njit(cache=True, nogil=True)
def _bounds(points: np.ndarray) -> Box:
    # Compiled: the tracker asks four or five times a frame, and NumPy's four reductions on 68 points
    # cost 9 us a call, this 0.4.
    x0 = x1 = points[0, 0]
    y0 = y1 = points[0, 1]
    for index in range(1, points.shape[0]):
        x, y = points[index, 0], points[index, 1]
        x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
    return x0, y0, x1, y1


def best_overlap(detections: list[Box], box: Box, min_iou: float = 0.3) -> Box | None:
    """The detection that overlaps ``box`` (a labelled face, a tracked one) most, or None if none overlaps
    it by ``min_iou``."""
    best = max(detections, key=lambda detection: box_iou(detection, box), default=None)
    return best if best is not None and box_iou(best, box) >= min_iou else None


def box_iou(a: Box, b: Box) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


THUMBNAIL_SIZE = 16
THUMBNAIL_SAMPLES = 4
"""A thumbnail pixel is the mean of at most this many pixels a side of the box, read evenly spread: a box of
up to 64 pixels a side is read whole, a larger one (a 640x360 webcam's face is about 240) every few
pixels, so that the thumbnail's cost does not grow with the face (a 1080p face read whole took 0.18 ms).
Its correlation with the thumbnail of every pixel stays above 0.98 (tested). Eight a side (128 pixels)
cost 0.08 ms a thumbnail, twice a frame, on frames not in the cache (0.035 ms at four), and the lowest
correlation while tracking woman_expressions.mp4 was the same (0.883 at 640x360, 0.907-0.908 at 1080p)."""


def warm_up_face_regions() -> None:
    """Load ``_thumbnail`` and ``_bounds`` from Numba's disk cache (or compile them, once per install), the
    thumbnail for both kinds of array the tracker hands it, a whole frame and a view of a face's
    surroundings: each kind seen first on a frame's path was 8-10 ms there (the first two frames of every
    session)."""
    frame = np.zeros((THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2, 3), np.uint8)
    for pixels in (frame, frame[1:, 1:]):
        box_thumbnail(pixels, (0, 0, THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    landmark_bounds(np.zeros((68, 2)))


def box_thumbnail(frame: np.ndarray, box: Box) -> np.ndarray | None:
    """The content of ``box`` in ``frame`` (BGR or gray) as a small gray image of zero mean and unit norm,
    or None where the box is off the frame or flat."""
    height, width = frame.shape[:2]
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    if x1 - x0 < THUMBNAIL_SIZE // 2 or y1 - y0 < THUMBNAIL_SIZE // 2:
        return None
    pixels = frame if frame.ndim == 3 else frame[:, :, None]
    return _thumbnail(pixels, x0, y0, x1, y1, THUMBNAIL_SIZE, THUMBNAIL_SIZE * THUMBNAIL_SAMPLES)


@njit(cache=True, nogil=True)
def _thumbnail(pixels: np.ndarray, x0: int, y0: int, x1: int, y1: int, size: int, most_read: int):
    """``box_thumbnail`` of (x0, y0, x1, y1) in ``pixels`` (H, W, 3 BGR or 1 gray): each of the size x size
    thumbnail pixels the mean gray of the box pixels in its cell, at most ``most_read`` a side read in
    all, evenly spread. One pass over the pixels read, the same cost for a face of any size, where OpenCV's
    gray conversion and area resize with NumPy's steps took 0.07 ms for a 640x360 webcam's face and
    0.16 ms for a 1080p one (read every few pixels)."""
    read_x, read_y = min(x1 - x0, most_read), min(y1 - y0, most_read)
    columns = np.empty(read_x, np.int64)
    cells = np.empty(read_x, np.int64)
    for i in range(read_x):
        columns[i], cells[i] = x0 + i * (x1 - x0) // read_x, i * size // read_x
    sums = np.zeros((size, size))
    counts = np.zeros((size, size))
    # Each column is summed over the rows first, then the columns into cells: adding each pixel straight
    # into its cell waited on the cell's last addition, eight times in a row.
    column_sums = np.zeros(read_x)
    colour = pixels.shape[2] == 3
    rows_summed = 0
    for j in range(read_y):
        y = y0 + j * (y1 - y0) // read_y
        for i in range(read_x):
            x = columns[i]
            if colour:
                column_sums[i] += 0.114 * pixels[y, x, 0] + 0.587 * pixels[y, x, 1] + 0.299 * pixels[y, x, 2]
            else:
                column_sums[i] += pixels[y, x, 0]
        rows_summed += 1
        cell_row = j * size // read_y
        if j == read_y - 1 or (j + 1) * size // read_y != cell_row:
            for i in range(read_x):
                sums[cell_row, cells[i]] += column_sums[i]
                counts[cell_row, cells[i]] += rows_summed
            column_sums[:] = 0.0
            rows_summed = 0
    patch = (sums / np.maximum(counts, 1.0)).astype(np.float32)
    patch -= patch.mean()
    norm = np.sqrt((patch * patch).sum())
    if norm <= 1e-3:
        return None
    return patch / norm
