"""Frames around faces: boxes, gray copies at a scale (the fast way for large images), a face's
region for the landmark predictor, and the thumbnail that tells a cut from motion."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

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
        return points * self.shrink + (self.shrink - 1) / 2 + np.asarray(self.origin, dtype=np.float64)

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
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


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
THUMBNAIL_SAMPLES = 8
"""A box larger than this many pixels per thumbnail pixel (128 a side: a 640x360 frame's face is not) is read
every few pixels before it is averaged down, which keeps the thumbnail's cost independent of the face's size
(0.18 ms for a 1080p face read whole)."""


def _whole_thumbnails(start: int, stop: int, step: int = 1) -> tuple[int, int]:
    """[start, stop) trimmed evenly at both ends to a whole multiple of ``THUMBNAIL_SIZE * step`` (left as it is
    where shorter than one)."""
    unit = THUMBNAIL_SIZE * step
    extra = (stop - start) % unit if stop - start > unit else 0
    return start + extra // 2, stop - (extra - extra // 2)


def box_thumbnail(frame: np.ndarray, box: Box) -> np.ndarray | None:
    """The content of ``box`` in ``frame`` as a small gray image of zero mean and unit norm, or None where
    the box is off the frame or flat."""
    height, width = frame.shape[:2]
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    if x1 - x0 < THUMBNAIL_SIZE // 2 or y1 - y0 < THUMBNAIL_SIZE // 2:
        return None
    step = max(min(x1 - x0, y1 - y0) // (THUMBNAIL_SIZE * THUMBNAIL_SAMPLES), 1)
    # Trimmed (centred) to whole multiples of the thumbnail's size: OpenCV's area averaging by a whole
    # factor is about 20 times faster than by any other (2.5 ms against 0.13 on a 1080p face).
    x0, x1 = _whole_thumbnails(x0, x1, step)
    y0, y1 = _whole_thumbnails(y0, y1, step)
    sampled = frame[y0:y1, x0:x1] if step == 1 else np.ascontiguousarray(frame[y0:y1:step, x0:x1:step])
    patch = cv2.resize(to_gray(sampled), (THUMBNAIL_SIZE, THUMBNAIL_SIZE),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    patch -= patch.mean()
    norm = float(np.linalg.norm(patch))
    return patch / norm if norm > 1e-3 else None
