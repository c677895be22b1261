"""Faces: dlib HOG detection and 68 landmarks, tracked between detections and smoothed.

HOG detection is the most expensive stage (8 ms on a 480-wide frame, 13 ms at 640 on this
machine), so the tracker never runs it on a whole frame while it follows a face: each frame's
box comes from the face's previous landmarks and the landmark predictor refits the points. The
search is spread out instead, so no frame stalls:

- each tracked face is confirmed once every ``detect_every`` frames by HOG in a small region
  round it, scaled so the face is about 100 px wide (about 1 ms whatever the frame's size);
- new faces are looked for one piece at a time, a piece every dozen frames, so the frame is
  covered once every ``new_faces_every`` frames: 2x2 overlapping tiles of the frame downscaled to
  ``detect_width``, and the whole of it at half that scale for faces too large for a tile.

A whole-frame search runs only when no face is tracked, or when a tracked face's content changed
at once (a cut, a mirror flip): then there is no following to spread it over.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from glare.smoothing import OneEuroFilter, filter_for_strength

PHOTO_UPSAMPLE = 1
"""HOG upsampling for photos: faces down to about 40 px wide are found, at four times the cost."""

Box = tuple[float, float, float, float]
"""left, top, right, bottom in frame pixels."""


@dataclass(frozen=True)
class Face:
    """One face in one frame."""

    box: Box
    landmarks: np.ndarray
    """(68, 2) float64 (x, y) in frame pixels, dlib's 68-point order."""
    track_id: int = 0


def _landmark_model_path() -> str:
    import face_recognition_models

    return face_recognition_models.pose_predictor_model_location()


class FaceFinder:
    """dlib's frontal HOG detector and 68-point predictor, loaded once per instance."""

    def __init__(self) -> None:
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(_landmark_model_path())

    def detect(self, gray: np.ndarray, upsample: int = 0) -> list[Box]:
        """Face boxes in ``gray`` (uint8, H x W), upsampling ``upsample`` times to find small faces."""
        return [(r.left(), r.top(), r.right(), r.bottom()) for r in self._detector(gray, upsample)]

    def landmarks(self, image: np.ndarray, box: Box, max_face_px: float | None = None) -> np.ndarray:
        """The 68 landmarks of the face in ``box``, as a (68, 2) float64 array in ``image``'s pixels.

        ``image`` is gray or BGR uint8; only the face's surroundings are converted to gray, which
        keeps the per-frame cost independent of the frame's size. With ``max_face_px`` a large face is
        fitted shrunk (see ``FaceRegion.around``), which keeps it independent of the face's size too.
        """
        return self.landmarks_in(FaceRegion.around(image, box, max_face_px), box)

    def landmarks_in(self, region: FaceRegion, box: Box) -> np.ndarray:
        """``landmarks`` on a face's surroundings already converted to gray (and perhaps shrunk)."""
        left, top, right, bottom = (int(round(v)) for v in region.to_region(box))
        shape = self._predictor(region.gray, dlib.rectangle(left, top, right, bottom))
        # dlib's points offer no buffer to view; the loop is about 0.06 ms beside the predictor's 0.7-2 ms.
        return region.to_frame(np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64))

    def find(self, image: np.ndarray, upsample: int = PHOTO_UPSAMPLE) -> list[Face]:
        """Every face in a photo (gray or BGR), searched at full resolution; ids 1, 2... in dlib's order."""
        gray = to_gray(image)
        return [Face(box, self.landmarks(gray, box), index)
                for index, box in enumerate(self.detect(gray, upsample), start=1)]

    def face_for_label(self, image: np.ndarray, labelled: Box,
                       upsample: int = PHOTO_UPSAMPLE) -> tuple[Face, bool]:
        """The face a hand-labelled box belongs to: the detection that overlaps it most, or (where dlib
        finds none that does) the labelled box itself; and whether it was detected."""
        gray = to_gray(image)
        detected = detection_for_label(self.detect(gray, upsample), labelled)
        box = detected if detected is not None else labelled
        return Face(box, self.landmarks(gray, box), 1), detected is not None


@dataclass(frozen=True)
class FaceRegion:
    """A face's surroundings in gray, shrunk by a whole factor where the face is large: what the landmark
    predictor and the scene-change check read."""

    gray: np.ndarray
    origin: tuple[int, int]
    """The region's top-left corner in frame pixels."""
    shrink: int = 1
    """Frame pixels per region pixel (each region pixel is the mean of shrink x shrink frame pixels)."""

    @staticmethod
    def around(image: np.ndarray, box: Box, max_face_px: float | None = None) -> FaceRegion:
        """``box`` with a quarter of its size round it (the predictor's reach), clipped to the image; where
        the box lies outside the image, the whole image (the fit lands on a border pixel rather than raise).

        With ``max_face_px``, a box wider than twice that is shrunk by the whole factor that keeps it at
        least that wide: the predictor's cost does not depend on the face's size, but the conversion's
        does, and a whole factor takes OpenCV's fast area-averaging path.
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
        return FaceRegion(shrunk_gray(image[y0:y1, x0:x1], shrink), (x0, y0), shrink)

    def to_region(self, box: Box) -> Box:
        """A box in frame pixels, in this region's pixels."""
        x0, y0 = self.origin
        k = self.shrink
        return (box[0] - x0) / k, (box[1] - y0) / k, (box[2] - x0) / k, (box[3] - y0) / k

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) region pixels in frame pixels: a region pixel's centre is its block's centre."""
        return points * self.shrink + (self.shrink - 1) / 2 + np.asarray(self.origin, dtype=np.float64)

    def thumbnail(self, box: Box) -> np.ndarray | None:
        """``box_thumbnail`` of this region's frame, from the gray already here."""
        return box_thumbnail(self.gray, self.to_region(box))


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


def landmark_bounds(landmarks: np.ndarray) -> Box:
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def detection_for_label(detections: list[Box], labelled: Box, min_iou: float = 0.3) -> Box | None:
    """The detection that overlaps a hand-labelled face box most, or None if none overlaps it by ``min_iou``."""
    best = max(detections, key=lambda box: box_iou(box, labelled), default=None)
    return best if best is not None and box_iou(best, labelled) >= min_iou else None


def box_iou(a: Box, b: Box) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class TrackerSettings:
    """How the tracker trades speed for vigilance."""

    detect_width: int = 480
    """Frames are downscaled to at most this width before HOG detection."""
    detect_every: int = 15
    """Frames between confirmations of a tracked face by HOG in its region; a face HOG no longer finds
    there (turned away, covered) is dropped."""
    new_faces_every: int = 60
    """Frames over which the search for new faces covers the whole frame once, a piece at a time (2 s at
    30 fps: a person who steps in is found within that). Shorter finds them sooner at more frames' cost."""
    upsample: int = 0
    """HOG upsampling on the downscaled frame; 1 finds faces half as large at four times the cost."""
    smoothing: float = 0.6
    """Landmark smoothing strength in [0, 1]; 0 is raw dlib output."""
    max_faces: int = 4
    min_face_px: float = 24.0
    """Faces whose landmarks span less than this many pixels are dropped: their eyes are too small."""
    scan_tiles: int = 2
    """New faces are looked for in scan_tiles x scan_tiles overlapping tiles of the downscaled frame and one
    half-scale pass over it, one at a time, spread over new_faces_every frames (see ``FaceTracker``)."""
    confirm_face_px: float = 100.0
    """A tracked face is confirmed by HOG on its region scaled to about this width (HOG's window is 80 px)."""
    landmark_face_px: float | None = None
    """Where set, a face at least twice this wide has its landmarks fitted on a copy shrunk by a whole factor
    that keeps it at least this wide, so a 1080p face costs about what a 360p one does (the conversion to
    gray grows with the face; the predictor does not). Off by default: dlib's fit moves by several pixels
    between scales, and on the clip upscaled to 1080p, shrunk at 160 px it read an eye covered by a hand as
    open (woman_expressions.mp4 frame 130) and an iris was drawn on the fingers; at full size it was not.
    Its cost in accuracy on photos: the 400x400 validation faces (~200 px) fitted at half size moved the
    pupils' scores by -1.4 points at e<=0.025 and -0.4 at e<=0.05 (``glare eval --split val``)."""


HOG_WINDOW_PX = 80
"""dlib's frontal detector finds faces from about this size up, in the pixels it searches."""

SCENE_CHANGE_CORRELATION = 0.7
"""A tracked face's box whose content correlates less than this with the frame before (as a 16x16
thumbnail) has seen a cut, a mirror flip or another photo: the frame is searched at once. Tracking a
moving, talking or blinking face stays above 0.87 on both sample clips (0.93 in 99% of frames); a cut
from one face to another in the same place gave 0.55."""
THUMBNAIL_SIZE = 16


def box_thumbnail(frame: np.ndarray, box: Box) -> np.ndarray | None:
    """The content of ``box`` in ``frame`` as a small gray image of zero mean and unit norm, or None where
    the box is off the frame or flat."""
    height, width = frame.shape[:2]
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    if x1 - x0 < THUMBNAIL_SIZE // 2 or y1 - y0 < THUMBNAIL_SIZE // 2:
        return None
    # Trimmed (centred) to whole multiples of the thumbnail's size: OpenCV's area averaging by a whole
    # factor is about 20 times faster than by any other (2.5 ms against 0.13 on a 1080p face).
    trim_x, trim_y = (x1 - x0) % THUMBNAIL_SIZE if x1 - x0 > THUMBNAIL_SIZE else 0, \
        (y1 - y0) % THUMBNAIL_SIZE if y1 - y0 > THUMBNAIL_SIZE else 0
    x0, y0 = x0 + trim_x // 2, y0 + trim_y // 2
    x1, y1 = x1 - (trim_x - trim_x // 2), y1 - (trim_y - trim_y // 2)
    patch = cv2.resize(to_gray(frame[y0:y1, x0:x1]), (THUMBNAIL_SIZE, THUMBNAIL_SIZE),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    patch -= patch.mean()
    norm = float(np.linalg.norm(patch))
    return patch / norm if norm > 1e-3 else None


@dataclass
class _Track:
    track_id: int
    raw_landmarks: np.ndarray
    box_from_landmarks: np.ndarray
    """The detector's box relative to the landmarks' bounds: (dx0, dy0, dx1, dy1) in bound sizes."""
    smoother: OneEuroFilter
    thumbnail: np.ndarray | None = None
    """The box's content when last followed (see ``box_thumbnail``), for the scene-change check."""

    def box(self) -> Box:
        x0, y0, x1, y1 = landmark_bounds(self.raw_landmarks)
        w, h = x1 - x0, y1 - y0
        dx0, dy0, dx1, dy1 = self.box_from_landmarks
        return x0 + dx0 * w, y0 + dy0 * h, x1 + dx1 * w, y1 + dy1 * h


def _relative_box(box: Box, landmarks: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = landmark_bounds(landmarks)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    return np.array([(box[0] - x0) / w, (box[1] - y0) / h, (box[2] - x1) / w, (box[3] - y1) / h])


class FaceTracker:
    """Faces in a live video: call ``update`` once per frame, in order."""

    def __init__(self, settings: TrackerSettings | None = None, finder: FaceFinder | None = None):
        self.settings = settings or TrackerSettings()
        self.finder = finder or FaceFinder()
        self._tracks: list[_Track] = []
        self._frames_since_detection = 0
        self._next_step = 0
        self._ids = itertools.count(1)
        self.detections_run = 0
        """Whole-frame searches: with no face tracked, or after a cut."""
        self.region_checks = 0
        """Searches of a tracked face's region or of one tile of the frame."""
        self.scene_changes = 0
        """How many times a tracked face's box changed content at once (a cut), and the frame was searched."""

    def reset(self) -> None:
        self._tracks = []
        self._frames_since_detection = 0

    def update(self, frame: np.ndarray, time_s: float) -> list[Face]:
        """The faces in this frame (uint8 BGR or gray), taken at ``time_s`` seconds."""
        if not self._tracks:
            self._detect(frame)
        else:
            self._frames_since_detection += 1
            if self._follow(frame):
                self._search_a_little(frame)
        faces = []
        for track in self._tracks:
            smoothed = track.smoother(track.raw_landmarks, time_s)
            faces.append(Face(track.box(), smoothed, track.track_id))
        return faces

    def _search_a_little(self, frame: np.ndarray) -> None:
        """This frame's share of the spread-out search: the tracked faces due for confirmation in their
        regions, and, every few frames, one tile of the frame for new faces."""
        every = max(self.settings.detect_every, 1)
        frame_number = self._frames_since_detection
        for track in list(self._tracks):
            # Staggered by id, so two faces are not confirmed on the same frame.
            if (frame_number + track.track_id) % every == 0:
                self._confirm(frame, track)
        steps = max(self.settings.scan_tiles, 1) ** 2 + 1
        spacing = max(self.settings.new_faces_every // steps, 1)
        if len(self._tracks) < self.settings.max_faces and frame_number % spacing == spacing // 2:
            self._scan_step(frame, self._next_step)
            self._next_step = (self._next_step + 1) % steps

    def _confirm(self, frame: np.ndarray, track: _Track) -> None:
        """HOG on the track's region, scaled to ``confirm_face_px``: the detection refreshes the box; none
        drops the track (its landmarks may be fitted to a hand or a turned head)."""
        self.region_checks += 1
        x0, y0, x1, y1 = track.box()
        size = max(x1 - x0, y1 - y0, 1.0)
        region = (x0 - 0.45 * size, y0 - 0.45 * size, x1 + 0.45 * size, y1 + 0.45 * size)
        boxes = self._detect_in(frame, region, self.settings.confirm_face_px / size)
        best = max(boxes, key=lambda box: box_iou(box, track.box()), default=None)
        if best is None or box_iou(best, track.box()) < 0.3:
            self._tracks.remove(track)
            return
        track.box_from_landmarks = _relative_box(best, track.raw_landmarks)
        # The box moved: the next frame's content is compared with this box's, not the old one's.
        track.thumbnail = box_thumbnail(frame, track.box())

    def _scan_step(self, frame: np.ndarray, step: int) -> None:
        """One step of the search for faces not yet tracked. Steps 0 .. n*n-1 are the n x n tiles of the
        frame downscaled to ``detect_width``; step n*n is the whole frame at half that scale, which finds
        the large faces. The tiles overlap by the smallest face the half-scale pass finds, so every face is
        whole in one tile or found by that pass."""
        self.region_checks += 1
        height, width = frame.shape[:2]
        count = max(self.settings.scan_tiles, 1)
        scale = min(1.0, self.settings.detect_width / width)
        if step >= count * count:
            region, scale = (0.0, 0.0, float(width), float(height)), scale / 2
        else:
            overlap = 1.1 * HOG_WINDOW_PX / (scale / 2)
            row, column = divmod(step, count)
            tile_w = min(width, (width + (count - 1) * overlap) / count)
            tile_h = min(height, (height + (count - 1) * overlap) / count)
            x0, y0 = column * (width - tile_w) / max(count - 1, 1), row * (height - tile_h) / max(count - 1, 1)
            region = (x0, y0, x0 + tile_w, y0 + tile_h)
        for box in self._detect_in(frame, region, scale):
            if len(self._tracks) >= self.settings.max_faces:
                break
            if any(box_iou(box, track.box()) > 0.1 for track in self._tracks):
                continue
            track = self._place(self._new_track(), frame, box)
            if self._plausible(track.raw_landmarks, frame.shape):
                self._tracks.append(track)

    def _detect_in(self, frame: np.ndarray, region: Box, scale: float, upsample: int = 0) -> list[Box]:
        """HOG face boxes (frame pixels) in ``region`` of ``frame``, searched at ``scale``."""
        height, width = frame.shape[:2]
        x0, y0 = max(int(region[0]), 0), max(int(region[1]), 0)
        x1, y1 = min(int(np.ceil(region[2])), width), min(int(np.ceil(region[3])), height)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        patch = scaled_gray(frame[y0:y1, x0:x1], scale)
        return [(b[0] / scale + x0, b[1] / scale + y0, b[2] / scale + x0, b[3] / scale + y0)
                for b in self.finder.detect(patch, upsample)]

    def _new_track(self) -> _Track:
        return _Track(next(self._ids), np.zeros((0, 2)), np.zeros(4), filter_for_strength(self.settings.smoothing))

    def _place(self, track: _Track, frame: np.ndarray, box: Box) -> _Track:
        """``track`` moved onto the face in ``box``: its landmarks fitted there, its box and thumbnail from them."""
        track.raw_landmarks = self.finder.landmarks(frame, box, self.settings.landmark_face_px)
        track.box_from_landmarks = _relative_box(box, track.raw_landmarks)
        track.thumbnail = box_thumbnail(frame, track.box())
        return track

    def _detect(self, frame: np.ndarray, cut: bool = False) -> None:
        """Search the frame for faces. A detection that overlaps a track continues it (its id, and so its
        gaze); after a ``cut`` its landmarks start afresh, unsmoothed, from the new face."""
        self.detections_run += 1
        self._frames_since_detection = 0
        height, width = frame.shape[:2]
        scale = min(1.0, self.settings.detect_width / width)
        boxes = self._detect_in(frame, (0.0, 0.0, float(width), float(height)), scale, self.settings.upsample)
        boxes = sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
        boxes = boxes[: self.settings.max_faces]
        kept: list[_Track] = []
        unclaimed = list(self._tracks)
        for box in boxes:
            match = max(unclaimed, key=lambda t: box_iou(t.box(), box), default=None)
            if match is not None and box_iou(match.box(), box) > 0.3:
                unclaimed.remove(match)
                track = match
                if cut:
                    track.smoother = filter_for_strength(self.settings.smoothing)
            else:
                track = self._new_track()
            self._place(track, frame, box)
            if self._plausible(track.raw_landmarks, frame.shape):
                kept.append(track)
        # Tracks that no detection confirmed are dropped: their landmarks may be fitted to a hand.
        self._tracks = kept

    def _follow(self, frame: np.ndarray) -> bool:
        """Refit each track's landmarks; False where a cut made it search the whole frame instead."""
        boxes = [track.box() for track in self._tracks]
        regions = [FaceRegion.around(frame, box, self.settings.landmark_face_px) for box in boxes]
        thumbnails = [region.thumbnail(box) for region, box in zip(regions, boxes)]
        if any(_scene_changed(track.thumbnail, now) for track, now in zip(self._tracks, thumbnails)):
            # Landmarks would be fitted to whatever now fills the old place (a ghost face) until the
            # next scheduled search, and smoothed across the cut: search now.
            self.scene_changes += 1
            self._detect(frame, cut=True)
            return False
        followed = []
        for track, box, region, thumbnail in zip(self._tracks, boxes, regions, thumbnails):
            track.thumbnail = thumbnail
            track.raw_landmarks = self.finder.landmarks_in(region, box)
            if self._plausible(track.raw_landmarks, frame.shape):
                followed.append(track)
        self._tracks = followed
        return True

    def _plausible(self, landmarks: np.ndarray, shape: tuple[int, ...]) -> bool:
        x0, y0, x1, y1 = landmark_bounds(landmarks)
        size = max(x1 - x0, y1 - y0)
        if size < self.settings.min_face_px:
            return False
        # A face more than half outside the frame can no longer be followed reliably.
        height, width = shape[:2]
        visible_w = min(x1, width) - max(x0, 0)
        visible_h = min(y1, height) - max(y0, 0)
        return visible_w > 0.5 * (x1 - x0) and visible_h > 0.5 * (y1 - y0)


def _scene_changed(before: np.ndarray | None, now: np.ndarray | None) -> bool:
    """Whether a box's content changed at once between two frames (see ``SCENE_CHANGE_CORRELATION``)."""
    if before is None:
        return False
    return now is None or float((before * now).sum()) < SCENE_CHANGE_CORRELATION
