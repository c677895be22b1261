"""Faces: dlib HOG detection and 68 landmarks, tracked between detections and smoothed.

HOG detection is the most expensive stage (8 ms on a 480-wide frame, 13 ms at 640 on this
machine), so the tracker never runs it on a whole frame on the frame's own path while it follows
a face: each frame's box comes from the face's previous landmarks and the landmark predictor
refits the points. The searches run beside it instead, so no frame stalls:

- each tracked face is confirmed once every ``detect_every`` frames by HOG in a small region
  round it, scaled so the face is about 100 px wide (about 1 ms whatever the frame's size);
- new faces are looked for over the whole frame downscaled to ``detect_width``, every dozen frames.

Both run on a worker thread (``glare.background_scan``; dlib lets go of Python's lock while it
searches) and their answers are taken a frame or two later. Without it (``search_in_thread``
off) they run on the frame's path, the new-face search one piece at a time: 2x2 overlapping
tiles of the downscaled frame and the whole of it at half that scale for faces too large for a
tile, covering the frame once every ``new_faces_every`` frames.

A whole-frame search runs on the frame's path only when no face is tracked, or when a tracked
face's content changed at once (a cut, a mirror flip, a jump): then there is nothing to follow.
Stills (``FaceFinder.find``) are searched whole at full resolution, by dlib's CNN where HOG finds
no face.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import dlib
import numpy as np

from glare.background_scan import BackgroundDetector
from glare.face_regions import (  # noqa: F401 (Box, scaled_gray, to_gray: re-exported for callers)
    Box,
    FaceRegion,
    best_overlap,
    box_in_frame,
    box_iou,
    box_thumbnail,
    landmark_bounds,
    rect_box,
    scaled_gray,
    to_gray,
    warm_up_face_regions,
)
from glare.landmark_predictor import LandmarkPredictor, PredictorTrim
from glare.smoothing import OneEuroFilter, filter_for_strength
from glare.smoothing import warm_up as warm_up_smoothing

PHOTO_UPSAMPLE = 1
"""HOG upsampling for photos: faces down to about 40 px wide are found, at four times the cost."""

CNN_SIDE_PX = 640
"""Stills are searched by the CNN with their longer side scaled to this (faces down to ~40 px in a 400 px photo)."""
MIN_CNN_SIDE_PX = 32
"""Images smaller than this on a side hold no face a landmark fit could use: no CNN search for them."""
CNN_TO_HOG_BOX = (0.03, 0.06, 0.08, 0.12)
"""How far HOG's box edges sit from the CNN's on the same face, in the CNN box's width and height
(left, top, right, bottom): the medians over 119 training-split photos both find (spread about 0.09),
from ``python scripts/cnn_box_offsets.py --limit 120``. HOG's box is lower and larger."""


@dataclass(frozen=True)
class Face:
    """One face in one frame."""

    box: Box
    landmarks: np.ndarray
    """(68, 2) float64 (x, y) in frame pixels, dlib's 68-point order."""
    track_id: int = 0


def dlib_landmark_model_path() -> str:
    import face_recognition_models

    return face_recognition_models.pose_predictor_model_location()


def _cnn_detector_path() -> str:
    import face_recognition_models

    return face_recognition_models.cnn_face_detector_model_location()


Detector = Literal["hog", "cnn", "label"]
"""Which found a still's face: HOG, the CNN fallback, or nothing (the hand-labelled box was used)."""


class FaceFinder:
    """dlib's frontal HOG detector and a 68-point predictor (dlib's own by default), loaded once per
    instance; for still images, dlib's CNN face detector where HOG finds nothing (loaded on first need)."""

    def __init__(self, cnn_fallback: bool = True, landmark_model: str | Path | None = None,
                 landmark_trim: PredictorTrim | None = None) -> None:
        self._detector = dlib.get_frontal_face_detector()
        path = Path(landmark_model) if landmark_model is not None else Path(dlib_landmark_model_path())
        # A trim is for dlib's model; a model the user trained is taken whole.
        trim = landmark_trim if landmark_model is None else None
        self._predictor = LandmarkPredictor(path, trim)
        self.has_dlib_model = landmark_model is None and trim is None
        """Whether the landmarks come from dlib's whole 68-point model (the one still photos want)."""
        self.cnn_fallback = cnn_fallback
        """Whether stills HOG finds no face in are searched again by the CNN (tilted heads, hands at the
        face: about 2% of the labelled photos). Too slow for live video (about a second a photo on a
        laptop CPU), where the tracker carries a face through the frames HOG misses."""
        self._cnn: dlib.cnn_face_detection_model_v1 | None = None
        self.found_by: Counter[Detector] = Counter()
        """How many still faces each detector found (``find``, ``face_for_label``)."""

    def detect(self, gray: np.ndarray, upsample: int = 0) -> list[Box]:
        """Face boxes in ``gray`` (uint8, H x W), upsampling ``upsample`` times to find small faces."""
        return [rect_box(r) for r in self._detector(gray, upsample)]

    def detect_with_cnn(self, gray: np.ndarray, like_hog: bool = True) -> list[Box]:
        """Face boxes from dlib's CNN (MMOD) detector, searched with the image's longer side scaled to
        ``CNN_SIDE_PX`` (its time grows with the pixels: about 2 s at that size here, where a 4000 px
        photo would take minutes). ``like_hog``: moved to where HOG puts its boxes on the same face,
        which is what the landmark predictor was trained on (``CNN_TO_HOG_BOX``)."""
        if self._cnn is None:
            self._cnn = dlib.cnn_face_detection_model_v1(_cnn_detector_path())
        scale = CNN_SIDE_PX / max(gray.shape[:2])
        searched = cv2.resize(gray, None, fx=scale, fy=scale,
                              interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        dx0, dy0, dx1, dy1 = CNN_TO_HOG_BOX if like_hog else (0.0, 0.0, 0.0, 0.0)
        boxes = []
        for detection in self._cnn(searched, 0):
            left, top, right, bottom = box_in_frame(rect_box(detection.rect), scale)
            w, h = right - left, bottom - top
            boxes.append((left + dx0 * w, top + dy0 * h, right + dx1 * w, bottom + dy1 * h))
        return boxes

    def detect_still(self, gray: np.ndarray, upsample: int = PHOTO_UPSAMPLE) -> tuple[list[Box], Detector]:
        """A still's face boxes by HOG, or by the CNN where HOG finds none; and which found them."""
        boxes = self.detect(gray, upsample)
        if boxes or not self.cnn_fallback or min(gray.shape[:2]) < MIN_CNN_SIDE_PX:
            return boxes, "hog"
        return self.detect_with_cnn(gray), "cnn"

    def landmarks(self, image: np.ndarray, box: Box, max_face_px: float | None = None) -> np.ndarray:
        """The 68 landmarks of the face in ``box``, as a (68, 2) float64 array in ``image``'s pixels.

        ``image`` is gray or BGR uint8; nothing is converted but the pixels the predictor reads, so the cost
        is independent of the frame's size and the face's. With ``max_face_px`` a large face is fitted
        shrunk (see ``FaceRegion.around``).
        """
        return self.landmarks_in(FaceRegion.around(image, box, max_face_px), box)

    def landmarks_in(self, region: FaceRegion, box: Box) -> np.ndarray:
        """``landmarks`` on a face's surroundings (``FaceRegion.around``)."""
        fitted_in = tuple(int(round(v)) for v in region.to_region(box))
        return region.to_frame(self._predictor(region.image, fitted_in))

    def find(self, image: np.ndarray, upsample: int = PHOTO_UPSAMPLE) -> list[Face]:
        """Every face in a photo (gray or BGR), searched at full resolution (by the CNN where HOG finds
        none); ids 1, 2... in the detector's order."""
        gray = to_gray(image)
        boxes, detector = self.detect_still(gray, upsample)
        self.found_by[detector] += len(boxes)
        return [Face(box, self.landmarks(gray, box), index) for index, box in enumerate(boxes, start=1)]

    def face_for_label(self, image: np.ndarray, labelled: Box,
                       upsample: int = PHOTO_UPSAMPLE) -> tuple[Face, Detector]:
        """The face a hand-labelled box belongs to: the HOG detection that overlaps it most, else the CNN's,
        else (where neither finds one that does) the labelled box itself; and which of the three it is."""
        gray = to_gray(image)
        detector: Detector = "hog"
        detected = best_overlap(self.detect(gray, upsample), labelled)
        if detected is None and self.cnn_fallback and min(gray.shape[:2]) >= MIN_CNN_SIDE_PX:
            detector, detected = "cnn", best_overlap(self.detect_with_cnn(gray), labelled)
        if detected is None:
            detector, detected = "label", labelled
        self.found_by[detector] += 1
        return Face(detected, self.landmarks(gray, detected), 1), detector


@dataclass
class TrackerSettings:
    """How the tracker trades speed for vigilance."""

    detect_width: int = 480
    """Frames are downscaled to at most this width before HOG detection."""
    detect_every: int = 15
    """Frames between confirmations of a tracked face by HOG in its region; a face HOG no longer finds
    there (turned away, covered) is dropped, after ``confirm_misses`` misses in a row."""
    confirm_misses: int = 2
    """Misses in a row that drop a tracked face; after a miss its region is searched again at once (the
    next frame, or the next answer from the worker thread). One miss dropped faces HOG lost for a single
    frame (a tilt, a blur): the effect vanished for a frame and started again from the middle, as for a
    new face, and the whole-frame search that found it again cost 9 ms on the frame's path."""
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
    search_in_thread: bool = True
    """Run the spread-out searches on a worker thread (dlib lets go of Python's lock while it searches):
    each face's confirmation, and the search for new faces over the whole frame every
    ``new_faces_every // (scan_tiles ** 2 + 1)`` frames. The answers are taken a frame or two later.
    False: both on the frame's own path, the new-face search a piece at a time (see ``scan_tiles``)."""
    scan_tiles: int = 2
    """New faces are looked for in scan_tiles x scan_tiles overlapping tiles of the downscaled frame and one
    half-scale pass over it, one at a time, spread over new_faces_every frames (see ``FaceTracker``)."""
    confirm_face_px: float = 100.0
    """A tracked face is confirmed by HOG on its region scaled to about this width (HOG's window is 80 px)."""
    landmark_trim: PredictorTrim | None = None
    """Where set, dlib's predictor follows faces walking fewer trees in its later cascades
    (``glare run --trimmed-landmarks``): about 35% fewer leaves read a fit, the pupils on the validation
    photos as accurate as with the whole model (docs/measurements.md, third pass). Off by default: on
    woman_expressions.mp4 its fit jumped now and then where a hand crosses the face, and with the
    scene-change check of that time the effect restarted (4 times in 4 passes; 0 with the whole model);
    with that check mended its eye outlines there still read both closed eyes behind the hand as open
    (frames 104-139), and dark irises were drawn on the lids, where the whole model's are left alone
    (docs/measurements.md, fifth pass). Ignored where ``landmark_model`` is set."""
    landmark_model: Path | None = None
    """The 68-point predictor that follows faces: None for dlib's own, or a smaller one made by
    ``glare-train landmarks``. The one that command made here fits a face in a third of dlib's time
    inside the loop (faces stage 2.1 -> 0.65 ms), but its eye outlines are looser (eye centroids within
    e <= 0.05: 36% of validation faces against dlib's 60%) and the effect then drew irises on closed
    and covered eyes, so dlib's own stays the default (docs/measurements.md)."""
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

REACQUIRE_S = 1.0
"""A face found again within this many seconds of its track being dropped, where the track last was, takes
that track's id back: a hand across the face can hide it from HOG for two confirmations, and under a new
id the effect started over (it vanished, then faded in again). The engine keeps a face's effect state for
as long (``glare.engine``)."""

SCENE_CHANGE_CORRELATION = 0.7
"""A tracked face's box whose content correlates less than this with the frame before at the same place
(as a 16x16 thumbnail) has seen a cut, a mirror flip or another photo: the frame is searched at once.
Tracking a moving, talking or blinking face stays above 0.86 on woman_expressions.mp4 in 640x360 and
1080p, hands across the face included (0.9 in 99% of frames); a cut from one face to another in the same
place gave 0.55."""


@dataclass(eq=False)  # a track is itself: found in lists by identity, not by comparing its arrays
class _Track:
    track_id: int
    raw_landmarks: np.ndarray
    box_from_landmarks: np.ndarray
    """The detector's box relative to the landmarks' bounds: (dx0, dy0, dx1, dy1) in bound sizes."""
    smoother: OneEuroFilter
    thumbnail: np.ndarray | None = None
    """The last frame's content at the box the next fit starts from (see ``box_thumbnail``), for the
    scene-change check."""
    misses: int = 0
    """Confirmations in a row that found no face in the track's region."""
    confirmed_box: Box | None = None
    """Where a detection last found the face: where it is looked for again once dropped (see
    ``REACQUIRE_S``). Landmarks thrown off the face drift for some frames before they are dropped."""

    _box_of: tuple[np.ndarray, np.ndarray, Box] | None = field(default=None, init=False, repr=False)
    """The last box worked out, with the two arrays it came from."""

    def box(self) -> Box:
        # Asked for three times a frame with the same landmarks (where the fit starts, the thumbnail, the face
        # handed on): worked out once for each pair of arrays, which are replaced, never changed in place.
        cached = self._box_of
        if cached is None or cached[0] is not self.raw_landmarks or cached[1] is not self.box_from_landmarks:
            cached = self._box_of = (self.raw_landmarks, self.box_from_landmarks,
                                     _box_around(self.raw_landmarks, self.box_from_landmarks))
        return cached[2]


def _box_around(landmarks: np.ndarray, box_from_landmarks: np.ndarray) -> Box:
    """The detector's box for ``landmarks``, placed by ``box_from_landmarks`` (see ``_Track``)."""
    x0, y0, x1, y1 = landmark_bounds(landmarks)
    w, h = x1 - x0, y1 - y0
    dx0, dy0, dx1, dy1 = box_from_landmarks
    return x0 + dx0 * w, y0 + dy0 * h, x1 + dx1 * w, y1 + dy1 * h


def _overlap(track: _Track, box: Box) -> float:
    """How much ``box`` overlaps the track: where it is now or, if more, where a detection last found it (a
    fit thrown off the face by a hand is still that face's track)."""
    confirmed = box_iou(track.confirmed_box, box) if track.confirmed_box is not None else 0.0
    return max(box_iou(track.box(), box), confirmed)


def _relative_box(box: Box, landmarks: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = landmark_bounds(landmarks)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    return np.array([(box[0] - x0) / w, (box[1] - y0) / h, (box[2] - x1) / w, (box[3] - y1) / h])


class FaceTracker:
    """Faces in a live video: call ``update`` once per frame, in order."""

    def __init__(self, settings: TrackerSettings | None = None, finder: FaceFinder | None = None):
        self.settings = settings or TrackerSettings()
        self.finder = finder or FaceFinder(landmark_model=self.settings.landmark_model,
                                           landmark_trim=self.settings.landmark_trim)
        self._tracks: list[_Track] = []
        self._dropped: list[tuple[int, Box, float]] = []
        """Tracks dropped in the last ``REACQUIRE_S``: id, where a detection last found the face, when."""
        self._time_s = 0.0
        self._looked = False
        """Whether the frame before started a search on the worker thread for a face (``_look_again``)."""
        self._searched = False
        """Whether the whole frame has been searched since the start (or ``reset``): the first search is made on
        the frame's own path, so that the first frame has its faces; later ones with no face in view go to the
        worker thread (``_look_again``)."""
        self._frames_since_detection = 0
        self._next_step = 0
        self._ids = itertools.count(1)
        self.detections_run = 0
        """Whole-frame searches: with no face tracked, or after a cut."""
        self.region_checks = 0
        """Searches of a tracked face's region or of one tile of the frame."""
        self.scene_changes = 0
        """How many times a tracked face's box changed content at once (a cut), and the frame was searched."""
        self.background = BackgroundDetector(self.settings.upsample) if self.settings.search_in_thread else None
        """The worker thread the spread-out searches run on, where ``search_in_thread``."""
        warm_up_face_regions()
        warm_up_smoothing()

    def reset(self) -> None:
        self._tracks = []
        self._dropped = []
        self._searched = False
        self._frames_since_detection = 0
        if self.background is not None:
            self.background.forget()

    def close(self) -> None:
        """Stops the worker thread, if any (the tracker still works after, without it)."""
        if self.background is not None:
            self.background.close()
            self.background = None

    def update(self, frame: np.ndarray, time_s: float) -> list[Face]:
        """The faces in this frame (uint8 BGR or gray), taken at ``time_s`` seconds."""
        self._time_s = time_s
        self._dropped = [entry for entry in self._dropped if 0.0 <= time_s - entry[2] <= REACQUIRE_S]
        if not self._tracks:
            if self.background is not None and self._searched:
                self._look_again(frame)
            else:
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
        regions, and, every few frames, the search for new faces (on the worker thread, where there is
        one; else a piece of the frame here); with a worker, first the answers it has finished."""
        every = max(self.settings.detect_every, 1)
        frame_number = self._frames_since_detection
        if self.background is not None:
            for track in list(self._tracks):
                answer = self.background.take(("confirm", track.track_id))
                if answer is not None:
                    self._confirmed(frame, track, answer.boxes, answer.asked_with)
        for track in list(self._tracks):
            # Staggered by id, so two faces are not confirmed on the same frame; a face just missed at once.
            if (frame_number + track.track_id) % every == 0 or track.misses:
                self._confirm(frame, track)
        steps = max(self.settings.scan_tiles, 1) ** 2 + 1
        spacing = max(self.settings.new_faces_every // steps, 1)
        room = len(self._tracks) < self.settings.max_faces
        if self.background is not None:
            found = self.background.take("new faces")
            if found is not None and room:
                # A tracked face found in that frame where it was then is no new face, though it has moved since.
                self._add_new_faces(frame, found.boxes, found.asked_with)
            if room and frame_number % spacing == spacing // 2:
                scale = self._search_scale(frame)
                self.background.start("new faces", frame.copy(), scale, asked_with=[t.box() for t in self._tracks])
        elif room and frame_number % spacing == spacing // 2:
            self._scan_step(frame, self._next_step)
            self._next_step = (self._next_step + 1) % steps

    def _search_round(self, box: Box) -> tuple[Box, float]:
        """The region round a face's ``box`` that a confirmation searches, and the scale that brings the face to
        ``confirm_face_px``."""
        x0, y0, x1, y1 = box
        size = max(x1 - x0, y1 - y0, 1.0)
        region = (x0 - 0.45 * size, y0 - 0.45 * size, x1 + 0.45 * size, y1 + 0.45 * size)
        return region, self.settings.confirm_face_px / size

    def _confirm(self, frame: np.ndarray, track: _Track) -> None:
        """HOG on the track's region, scaled to ``confirm_face_px``, here or on the worker thread."""
        region, scale = self._search_round(track.box())
        if self.background is None:
            self._confirmed(frame, track, self._detect_in(frame, region, scale), track.raw_landmarks)
            return
        cut = self._region(frame, region)
        if cut is not None:
            self.background.start(("confirm", track.track_id), cut[0].copy(), scale, cut[1],
                                  asked_with=track.raw_landmarks.copy())

    def _confirmed(self, frame: np.ndarray, track: _Track, boxes: list[Box], landmarks_then: np.ndarray) -> None:
        """A confirmation's answer: the detection that overlaps the track refreshes its box; ``confirm_misses``
        answers in a row with none drop the track (its landmarks may be fitted to a hand or a turned head).
        ``boxes`` were found in the frame the track had ``landmarks_then`` in, frames ago on the worker thread:
        the box is placed relative to those. Placed relative to the landmarks of now, a face that moved
        while the worker was busy had its box left behind, the next fit started there and was pulled
        further off each frame (seen on a 2-core machine: a face sliding 12 px a frame left its box and
        was found again as a second face)."""
        self.region_checks += 1
        best = best_overlap(boxes, _box_around(landmarks_then, track.box_from_landmarks))
        if best is None:
            track.misses += 1
            if track.misses >= self.settings.confirm_misses:
                self._tracks.remove(track)
                self._remember_dropped(track)
            return
        track.misses = 0
        track.confirmed_box = best
        track.box_from_landmarks = _relative_box(best, landmarks_then)
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
        scale = self._search_scale(frame)
        if step >= count * count:
            region, scale = (0.0, 0.0, float(width), float(height)), scale / 2
        else:
            overlap = 1.1 * HOG_WINDOW_PX / (scale / 2)
            row, column = divmod(step, count)
            tile_w = min(width, (width + (count - 1) * overlap) / count)
            tile_h = min(height, (height + (count - 1) * overlap) / count)
            x0, y0 = column * (width - tile_w) / max(count - 1, 1), row * (height - tile_h) / max(count - 1, 1)
            region = (x0, y0, x0 + tile_w, y0 + tile_h)
        self._add_new_faces(frame, self._detect_in(frame, region, scale))

    def _add_new_faces(self, frame: np.ndarray, boxes: list[Box], tracked_then: list[Box] = ()) -> None:
        """Tracks for the boxes no tracked face overlaps, now or (``tracked_then``) in the frame searched,
        fitted in ``frame``, up to ``max_faces``."""
        for box in boxes:
            if len(self._tracks) >= self.settings.max_faces:
                break
            tracked = [track.box() for track in self._tracks] + list(tracked_then)
            if any(box_iou(box, other) > 0.1 for other in tracked):
                continue
            track = self._place(self._new_track(box), frame, box)
            if self._plausible(track.raw_landmarks, frame.shape):
                self._tracks.append(self._kept(track))

    def _search_scale(self, frame: np.ndarray) -> float:
        """The scale whole-frame searches run at: the frame shrunk to ``detect_width``, never enlarged."""
        return min(1.0, self.settings.detect_width / frame.shape[1])

    def _detect_in(self, frame: np.ndarray, region: Box, scale: float, upsample: int = 0) -> list[Box]:
        """HOG face boxes (frame pixels) in ``region`` of ``frame``, searched at ``scale``."""
        cut = self._region(frame, region)
        if cut is None:
            return []
        image, origin = cut
        return [box_in_frame(box, scale, origin) for box in self.finder.detect(scaled_gray(image, scale), upsample)]

    @staticmethod
    def _region(frame: np.ndarray, region: Box) -> tuple[np.ndarray, tuple[int, int]] | None:
        """``region`` of ``frame`` (clipped to it; a view) and its corner; None where too little of it is in
        the frame."""
        height, width = frame.shape[:2]
        x0, y0 = max(int(region[0]), 0), max(int(region[1]), 0)
        x1, y1 = min(int(np.ceil(region[2])), width), min(int(np.ceil(region[3])), height)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        return frame[y0:y1, x0:x1], (x0, y0)

    def _new_track(self, box: Box) -> _Track:
        """A track for the face in ``box``: under the id of a track dropped there lately (``REACQUIRE_S``),
        else a new one. The id stays a dropped face's until the track is kept (``_kept``): a face found where it
        was lost, but whose landmarks cannot be followed yet (a hand still across it), is looked for again."""
        places = [place for _, place, _ in self._dropped]
        place = best_overlap(places, box)
        track_id = next(self._ids) if place is None else self._dropped[places.index(place)][0]
        return _Track(track_id, np.zeros((0, 2)), np.zeros(4), filter_for_strength(self.settings.smoothing))

    def _kept(self, track: _Track) -> _Track:
        """``track``, followed from now on: its id is no dropped face's any more."""
        self._dropped = [entry for entry in self._dropped if entry[0] != track.track_id]
        return track

    def _remember_dropped(self, track: _Track) -> None:
        """Keeps a dropped track's id for ``REACQUIRE_S``, with where a detection last found its face."""
        if track.confirmed_box is not None:
            self._dropped.append((track.track_id, track.confirmed_box, self._time_s))

    def _place(self, track: _Track, frame: np.ndarray, box: Box) -> _Track:
        """``track`` moved onto the face in ``box``: its landmarks fitted there, its box and thumbnail from them."""
        track.raw_landmarks = self.finder.landmarks(frame, box, self.settings.landmark_face_px)
        track.box_from_landmarks = _relative_box(box, track.raw_landmarks)
        track.confirmed_box = box
        track.thumbnail = box_thumbnail(frame, track.box())
        return track

    def _look_again(self, frame: np.ndarray) -> None:
        """No face is followed (one was lost a moment ago, a hand across it, or none is in view): the whole
        frame is searched on the worker thread, not on the frame's path, where it took 8 ms at 640x360 and 12
        at 1080p (the runs' longest frames, and every frame while nobody sat in front of the camera). A face
        lost a moment ago (``REACQUIRE_S``) is also looked for where it was, here, as a confirmation looks
        (1-2 ms), and is back under its id on the first frame that shows it there; one that steps in is found
        a frame later than a search on the frame's path would find it."""
        answer = self.background.take("look again")
        if answer is None and self._dropped:
            found = [box for _, place, _ in self._dropped[-self.settings.max_faces:]
                     for box in self._detect_in(frame, *self._search_round(place))]
            if found:
                self._detect(frame, found=found)
                if self._tracks:
                    return
        elif answer is None and self._looked:
            # Asked a frame ago: live, it is long done (8 ms of a 33 ms frame); frames read faster than
            # that (a file rendered) wait for it, so that a face that steps in is never found later. (Not for
            # a face lost a moment ago, looked for where it was above: the frame after a hand threw its fit
            # off waited 11-36 ms for this search on a clip read back to back.)
            self.background.wait()
            answer = self.background.take("look again")
        self._looked = False
        if answer is not None:
            self._detect(frame, found=answer.boxes)
            if self._tracks:
                return
        # A search for new faces still under way searches the whole frame too, a frame or two earlier: its
        # answer serves, where a search begun now waited behind it and behind the lost face's confirmations,
        # which are moot.
        self.background.file_under("new faces", "look again")
        self.background.forget(keep="look again")
        # One may be under way already: the one filed just above, or an earlier frame's (started while a lost face
        # was also looked for where it was). Either way the next frame waits for it: a file read back to back never
        # took that earlier one's answer, nor started a search behind it. (No copy of the frame where none starts.)
        if not self.background.under_way("look again"):
            self.background.start("look again", frame.copy(), self._search_scale(frame))
        self._looked = True

    def _detect(self, frame: np.ndarray, cut: bool = False, found: list[Box] | None = None) -> None:
        """Search the frame for faces (or take the boxes ``found`` in it a frame or two ago). A detection that
        overlaps a track continues it (its id, and so its gaze); after a ``cut`` its landmarks start afresh,
        unsmoothed, from the new face."""
        self.detections_run += 1
        self._searched = True
        self._frames_since_detection = 0
        if self.background is not None:
            self.background.forget()
        if found is None:
            height, width = frame.shape[:2]
            scale = self._search_scale(frame)
            found = self._detect_in(frame, (0.0, 0.0, float(width), float(height)), scale, self.settings.upsample)
        boxes = sorted(found, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
        boxes = boxes[: self.settings.max_faces]
        kept: list[_Track] = []
        unclaimed = list(self._tracks)
        for box in boxes:
            match = max(unclaimed, key=lambda t: _overlap(t, box), default=None)
            if match is not None and _overlap(match, box) > 0.3:
                unclaimed.remove(match)
                track = match
                if cut:
                    track.smoother = filter_for_strength(self.settings.smoothing)
            else:
                track = self._new_track(box)
            self._place(track, frame, box)
            if self._plausible(track.raw_landmarks, frame.shape):
                kept.append(self._kept(track))
        # Tracks that no detection confirmed are dropped: their landmarks may be fitted to a hand.
        for track in self._tracks:
            if track not in kept:
                self._remember_dropped(track)
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
        for track, box, region in zip(self._tracks, boxes, regions):
            track.raw_landmarks = self.finder.landmarks_in(region, box)
            # The next frame is compared with this one at the same place, the box its fit will start from:
            # a fit that jumps (a hand across the face) then changes no content, where comparing with
            # this frame at the old box read as a cut and restarted the effect.
            track.thumbnail = box_thumbnail(frame, track.box())
            if self._plausible(track.raw_landmarks, frame.shape):
                followed.append(track)
            else:
                self._remember_dropped(track)
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
