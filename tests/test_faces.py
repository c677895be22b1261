"""Face tracking on real video and on frames that hold no usable face."""

import cv2
import numpy as np
import pytest

from glare.background_scan import BackgroundDetector
from glare.capture import VideoFileSource
from glare.faces import REACQUIRE_S, FaceFinder, FaceTracker, TrackerSettings, box_iou, box_thumbnail, scaled_gray
from tests.conftest import covered


@pytest.fixture(scope="module")
def finder():
    return FaceFinder()


def _frames(path, count):
    source = VideoFileSource(path)
    try:
        return [captured for _, captured in zip(range(count), source.frames())]
    finally:
        source.close()


def test_tracker_follows_the_face_and_detects_only_on_schedule(finder, woman_video):
    tracker = FaceTracker(TrackerSettings(detect_every=10), finder)
    frames = _frames(woman_video, 60)
    counts = [len(tracker.update(f.image, f.time_s)) for f in frames]
    assert counts.count(1) >= 58
    assert tracker.detections_run <= 8
    # The tracked box agrees with a fresh full-resolution detection.
    last = tracker.update(frames[-1].image, frames[-1].time_s)[0]
    (fresh,) = finder.detect(cv2.cvtColor(frames[-1].image, cv2.COLOR_BGR2GRAY), upsample=1)
    assert box_iou(last.box, fresh) > 0.5


def test_smoothing_steadies_landmarks_on_a_still_video(finder, data_dir):
    frames = _frames(data_dir / "video" / "man_webcam.mp4", 72)

    def jitter(strength):
        tracker = FaceTracker(TrackerSettings(smoothing=strength), finder)
        points = [tracker.update(f.image, f.time_s)[0].landmarks for f in frames]
        return np.sqrt(np.mean(np.diff(np.array(points), axis=0) ** 2))

    assert jitter(0.8) < jitter(0.0)


def test_no_face_video_gives_no_faces(finder, data_dir):
    tracker = FaceTracker(finder=finder)
    assert all(not tracker.update(f.image, f.time_s) for f in _frames(data_dir / "video" / "no_face.mp4", 30))


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 3, 3), (480, 640, 3), (40, 30, 3)])
def test_empty_and_noise_frames_give_no_faces(finder, shape):
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    tracker = FaceTracker(finder=finder)
    assert tracker.update(frame, 0.0) == []
    assert finder.find(frame) == []


def test_a_face_cut_by_the_frame_edge_never_raises(finder, woman_video):
    frame = _frames(woman_video, 1)[0].image
    tracker = FaceTracker(finder=finder)
    (face,) = tracker.update(frame, 0.0)
    # Slide the face out of the frame to the left, a few pixels per frame.
    for step, shift in enumerate(range(0, int(face.box[2]) + 40, 12), start=1):
        moved = np.zeros_like(frame)
        moved[:, : frame.shape[1] - shift] = frame[:, shift:]
        faces = tracker.update(moved, step / 30)
        assert len(faces) <= 1
    assert tracker.update(np.zeros_like(frame), 99.0) == []


class _LateWorker(BackgroundDetector):
    """A worker thread on a busy machine, made deterministic: each answer is handed over only on the
    ``lag``-th frame that asks for it."""

    def __init__(self, lag: int):
        super().__init__()
        self.lag = lag
        self._asked: dict = {}

    def take(self, key):
        if key not in self._pending:
            return None
        self._asked[key] = self._asked.get(key, 0) + 1
        if self._asked[key] < self.lag:
            return None
        del self._asked[key]
        self.wait()
        return super().take(key)


@pytest.mark.parametrize("lag", [3, 10])
def test_a_moving_face_keeps_its_box_when_the_worker_answers_late(finder, woman_video, lag):
    """A confirmation answered frames late found the face where it was then. Read against the landmarks of
    the frame it arrived on, the box was left behind a moving face, each fit started off it and was
    pulled further, and the face was found again as a second one (a CI machine, 2 cores)."""
    frame = _frames(woman_video, 1)[0].image
    tracker = FaceTracker(finder=finder)
    tracker.background.close()
    tracker.background = _LateWorker(lag)
    (face,) = tracker.update(frame, 0.0)
    start = face.box[0]
    width = face.box[2] - face.box[0]
    checks = tracker.region_checks
    # The face slides left 12 px a frame until it reaches the frame's edge.
    for step, shift in enumerate(range(12, int(start), 12), start=1):
        moved = np.zeros_like(frame)
        moved[:, : frame.shape[1] - shift] = frame[:, shift:]
        faces = tracker.update(moved, step / 30)
        assert [f.track_id for f in faces] == [face.track_id]
        assert abs(faces[0].box[0] - (start - shift)) < 0.15 * width, f"box left behind at {shift} px"
    tracker.close()
    assert tracker.region_checks > checks, "late confirmations were taken"


def test_a_late_search_for_new_faces_does_not_find_a_tracked_face_where_it_was(finder, woman_video):
    """The search for new faces, answered 12 frames late, finds the tracked face where it was then, 190 px
    from where it is now: that is no new face (it was taken for one, fitted there and followed beside it)."""
    frame = _frames(woman_video, 1)[0].image
    height, width = frame.shape[:2]
    canvas = np.zeros((height, 3 * width, 3), np.uint8)
    tracker = FaceTracker(finder=finder)
    tracker.background.close()
    tracker.background = _LateWorker(12)
    counts = []
    # The face crosses a wide frame from right to left, 16 px a frame.
    for step, left in enumerate(range(2 * width, 0, -16)):
        shown = canvas.copy()
        shown[:, left:left + width] = frame
        counts.append(len(tracker.update(shown, step / 30)))
    tracker.close()
    assert counts == [1] * len(counts)
    assert tracker.region_checks > 0


def test_a_cut_and_a_mirror_toggle_are_followed_on_their_own_frame(finder, woman_video, data_dir):
    # A clip that cuts from one person to another at about the same place, and later flips (the `m`
    # key) with the face off-centre. Neither falls on a scheduled detection (every 15 frames from 0).
    woman = [f.image for f in _frames(woman_video, 60)]
    man = [f.image for f in _frames(data_dir / "video" / "man_webcam.mp4", 34)]
    clip = woman[:37] + man + [cv2.flip(image, 1) for image in woman[37:60]]
    tracker = FaceTracker(TrackerSettings(detect_every=15), finder)
    for index, image in enumerate(clip):
        (face,) = tracker.update(image, index / 30.0)
        if index in (37, 71):
            # On the very frame of the change the landmarks sit on the face now there, unsmoothed
            # (before, they were fitted where the old face had been, for up to 14 frames).
            (fresh,) = finder.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), upsample=1)
            assert box_iou(face.box, fresh) > 0.5
            assert np.allclose(face.landmarks, finder.landmarks(image, face.box), atol=3.0)
    # Two cuts seen, no false ones: no more searches than the schedule's and those two.
    assert tracker.scene_changes == 2
    assert tracker.detections_run <= len(range(0, len(clip), 15)) + 2


@pytest.mark.parametrize("in_thread", [False, True], ids=["pieces", "worker thread"])
def test_a_face_that_steps_in_is_found_without_searching_a_whole_frame(finder, woman_video, data_dir, in_thread):
    """While a face is followed, new faces are looked for off the frame's path (a piece of the frame at a
    time, or the whole of it on a worker thread): a second face that appears is found within
    new_faces_every frames, and no frame runs a whole-frame search itself."""
    woman = [f.image for f in _frames(woman_video, 80)]
    man = [f.image for f in _frames(data_dir / "video" / "man_webcam.mp4", 80)]
    height, width = woman[0].shape[:2]
    canvas = np.zeros((height, 2 * width, 3), np.uint8)
    settings = TrackerSettings(new_faces_every=30, search_in_thread=in_thread)
    tracker = FaceTracker(settings, finder)
    counts = []
    for index, image in enumerate(woman):
        frame = canvas.copy()
        frame[:, :width] = image
        if index >= 10:
            frame[:, width:] = cv2.resize(man[index % len(man)], (width, height))
        counts.append(len(tracker.update(frame, index / 30.0)))
        if in_thread:
            tracker.background.wait()  # the answer is taken on the next frame: deterministic
    tracker.close()
    assert counts[:10] == [1] * 10
    arrival = counts.index(2)
    assert 10 < arrival <= 10 + settings.new_faces_every + 1
    assert all(count == 2 for count in counts[arrival:])
    assert tracker.detections_run == 1, "only the first frame, with nothing to follow, was searched whole"
    if in_thread:
        assert arrival <= 10 + settings.new_faces_every // 5 + 2, "the thread searches the whole frame each time"
    else:
        assert tracker.region_checks > 0


@pytest.mark.parametrize("in_thread", [False, True], ids=["here", "worker thread"])
def test_a_tracked_face_that_hog_no_longer_finds_in_its_region_is_dropped(finder, woman_video, in_thread):
    frames = [f.image for f in _frames(woman_video, 20)]
    tracker = FaceTracker(TrackerSettings(detect_every=5, new_faces_every=1000, search_in_thread=in_thread), finder)
    (face,) = tracker.update(frames[0], 0.0)
    # The face's region painted flat gray: its landmarks still fit somewhere, HOG finds no face.
    counts = []
    for index, image in enumerate(frames[1:], start=1):
        counts.append(len(tracker.update(covered(image, face.box), index / 30.0)))
        if in_thread:
            tracker.background.wait()  # the answer is taken on the next frame: deterministic
    tracker.close()
    # Confirmed on the 5th frame; from a worker thread, the answer acts a frame later.
    assert counts[-1] == 0 and counts.index(0) <= 6 + in_thread


@pytest.mark.parametrize("gap, same_id", [(0.3, True), (1.5, False)])
def test_a_face_dropped_a_moment_comes_back_under_its_id(finder, woman_video, gap, same_id):
    """Covered until its track is dropped (a hand across the face), then shown again: within REACQUIRE_S
    where it was, it is the same face, and keeps its id (so its effect goes on); later it is a new one."""
    frames = [f.image for f in _frames(woman_video, 12)]
    tracker = FaceTracker(TrackerSettings(detect_every=3, new_faces_every=1000, search_in_thread=False), finder)
    (face,) = tracker.update(frames[0], 0.0)
    time_s, index = 0.0, 1
    while tracker.update(covered(frames[index], face.box), time_s + 1 / 30):
        time_s, index = time_s + 1 / 30, index + 1
        assert index < 10, "the covered face was never dropped"
    (back,) = tracker.update(frames[index + 1], time_s + gap * REACQUIRE_S)
    assert (back.track_id == face.track_id) == same_id


def test_a_search_after_a_thrown_fit_continues_the_faces_track(finder, woman_video):
    """Landmarks thrown off the face (a hand drags them aside) and then a whole-frame search (a cut read in
    the hand's frame): the face found where a detection last found it is the same face, same id."""
    frame = _frames(woman_video, 1)[0].image
    tracker = FaceTracker(TrackerSettings(search_in_thread=False), finder)
    (face,) = tracker.update(frame, 0.0)
    (track,) = tracker._tracks
    track.raw_landmarks = track.raw_landmarks + (0.6 * (face.box[2] - face.box[0]), 0.0)
    tracker._detect(frame, cut=True)
    assert [t.track_id for t in tracker._tracks] == [face.track_id]


def test_a_face_lost_a_moment_ago_is_looked_for_off_the_frames_path(finder, woman_video, monkeypatch):
    """With a worker thread, the whole-frame searches after the only face was dropped run there, not on the
    frames (they were the runs' longest frames, 8-12 ms), and the face comes back under its id."""
    frames = [f.image for f in _frames(woman_video, 24)]
    tracker = FaceTracker(TrackerSettings(detect_every=3, new_faces_every=1000), finder)
    tracker.background.close()
    tracker.background = _LateWorker(2)
    (face,) = tracker.update(frames[0], 0.0)
    index = 1
    while tracker.update(covered(frames[index], face.box), index / 30):
        index += 1
        assert index < 12, "the covered face was never dropped"
    # (Covering it at once reads as a cut, searched there and then; what follows is the test.)
    searched_here = []
    detect = finder.detect
    monkeypatch.setattr(finder, "detect",
                        lambda image, *rest: searched_here.append(image.shape[1]) or detect(image, *rest))
    index += 1
    ids = [[f.track_id for f in tracker.update(image, (index + k) / 30)] for k, image in enumerate(frames[index:])]
    tracker.close()
    # Only the lost face's own surroundings, at a confirmation's scale (about 1.9 faces across).
    assert all(width <= 2 * tracker.settings.confirm_face_px for width in searched_here), \
        "a whole frame was searched on the frame's path"
    assert ids[-1] == [face.track_id] and ids.index([face.track_id]) <= 4


def test_with_nobody_in_view_the_frames_are_not_searched_on_their_path(finder, woman_video, monkeypatch):
    """An empty room (the streamer stepped away) had every frame searched whole on its own path, 8 ms at
    640x360 where a frame with a face costs 2: after the first frame's search, with a worker thread, the
    searches run there, and a face that steps in is found a frame later."""
    frames = [f.image for f in _frames(woman_video, 3)]
    empty = np.full_like(frames[0], 120)
    tracker = FaceTracker(TrackerSettings(new_faces_every=1000), finder)
    tracker.background.close()
    tracker.background = _LateWorker(1)
    searched_here = []
    detect = finder.detect
    monkeypatch.setattr(finder, "detect", lambda *arguments: searched_here.append(1) or detect(*arguments))
    assert tracker.update(empty, 0.0) == [] and len(searched_here) == 1, "the first frame is searched at once"
    for index in range(1, 6):
        assert tracker.update(empty, index / 30) == []
    faces_when_back = [len(tracker.update(image, (6 + k) / 30)) for k, image in enumerate(frames)]
    tracker.close()
    assert len(searched_here) == 1, "a frame with nobody in view was searched on its own path"
    assert faces_when_back[:2] == [0, 1]


@pytest.mark.parametrize("in_thread", [False, True], ids=["here", "worker thread"])
def test_a_face_hog_misses_once_keeps_its_track_and_is_searched_again_at_once(finder, woman_video, in_thread):
    """A single miss (a tilt, a blur) used to drop the face: the effect vanished for a frame, started again
    from the middle as for a new face, and a whole-frame search ran on the frame's path."""
    frames = [f.image for f in _frames(woman_video, 14)]
    tracker = FaceTracker(TrackerSettings(detect_every=5, new_faces_every=1000, search_in_thread=in_thread), finder)
    (face,) = tracker.update(frames[0], 0.0)
    ids, searched_at = [], []
    for index, image in enumerate(frames[1:], start=1):
        checks = tracker.region_checks
        # The frame the face is confirmed on is blurred (a jolt of the camera): HOG finds no face in it, but the
        # face's content is still what it was, so it is no cut.
        shown = cv2.GaussianBlur(image, (0, 0), 30) if index == 4 else image
        ids.append([f.track_id for f in tracker.update(shown, index / 30.0)])
        if in_thread:
            tracker.background.wait()  # the answer is taken on the next frame: deterministic
        if tracker.region_checks > checks:
            searched_at.append(index)
    tracker.close()
    assert ids == [[face.track_id]] * len(ids)
    assert tracker.detections_run == 1, "no whole-frame search after the miss"
    # The miss is answered, then the region searched again on the next frame, not five frames later.
    assert searched_at[1] == searched_at[0] + 1


def test_a_face_that_jumps_150_px_is_found_at_its_new_place_on_the_next_frame(finder, woman_video):
    """A jump (the camera knocked, a crop changed) is not followed by fitting landmarks where the face was."""
    frames = [f.image for f in _frames(woman_video, 8)]
    tracker = FaceTracker(finder=finder)
    for index, image in enumerate(frames[:5]):
        tracker.update(image, index / 30.0)
    jumped = np.zeros_like(frames[5])
    jumped[:, :-150] = frames[5][:, 150:]
    (face,) = tracker.update(jumped, 5 / 30.0)
    (fresh,) = finder.detect(cv2.cvtColor(jumped, cv2.COLOR_BGR2GRAY), upsample=1)
    assert box_iou(face.box, fresh) > 0.5
    assert np.allclose(face.landmarks, finder.landmarks(jumped, face.box), atol=3.0)


def test_a_fit_that_jumps_on_an_unchanged_face_is_no_cut(woman_video):
    """A hand across the face can throw the landmark fit off for a frame. Nothing in the picture was cut,
    so the face keeps its track and the effect does not restart (a cut meant a whole-frame search on
    the frame's path and the landmarks' smoothing started afresh)."""
    still = _frames(woman_video, 1)[0].image
    finder = FaceFinder()
    fit = finder.landmarks_in

    def thrown_once(region, box, calls=iter(range(100))):
        landmarks = fit(region, box)
        return landmarks + (60.0, 40.0) if next(calls) == 3 else landmarks

    finder.landmarks_in = thrown_once
    tracker = FaceTracker(TrackerSettings(search_in_thread=False), finder=finder)
    tracks = [[face.track_id for face in tracker.update(still, index / 30.0)] for index in range(8)]
    assert tracks == [[1]] * 8
    assert tracker.scene_changes == 0 and tracker.detections_run == 1


def test_a_large_face_is_fitted_shrunk_with_its_points_mapped_to_block_centres(finder, woman_video):
    """Each pixel of a frame doubled by pixel repetition is a 2x2 block: shrunk by 2 it is the frame
    again, so the fit must be the frame's own, at twice the coordinates plus half a pixel."""
    frame = _frames(woman_video, 1)[0].image
    (face,) = finder.find(frame, upsample=0)
    box = tuple(float(round(v)) for v in face.box)
    doubled = cv2.resize(frame, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    doubled_box = tuple(2 * v for v in box)
    shrunk = finder.landmarks(doubled, doubled_box, max_face_px=(doubled_box[2] - doubled_box[0]) / 2)
    assert np.array_equal(shrunk, 2 * finder.landmarks(frame, box) + 0.5)


def test_a_large_faces_thumbnail_read_every_few_pixels_matches_it_read_whole(finder, woman_video):
    """A 1080p face is read every few pixels for the scene-change check: its thumbnail must still be the
    face's, near the one averaged from every pixel (a cut gave a correlation of 0.55, tracking above 0.87)."""
    correlations = []
    for captured in _frames(woman_video, 40)[::10]:
        frame = cv2.resize(captured.image, (1920, 1080), interpolation=cv2.INTER_CUBIC)
        (face,) = finder.find(captured.image, upsample=0)
        x0, y0, x1, y1 = (int(3 * v) for v in face.box)
        x1, y1 = x0 + (x1 - x0) // 16 * 16, y0 + (y1 - y0) // 16 * 16
        whole = cv2.resize(cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY), (16, 16),
                           interpolation=cv2.INTER_AREA).astype(np.float32)
        whole -= whole.mean()
        sampled = box_thumbnail(frame, (x0, y0, x1, y1))
        correlations.append(float((sampled * whole / np.linalg.norm(whole)).sum()))
    assert len(correlations) == 4 and min(correlations) > 0.98


def test_a_small_boxs_thumbnail_is_its_gray_averaged_in_cells(woman_video):
    """A box of up to 64 pixels a side is read whole: each thumbnail pixel is its cell's mean gray, as
    OpenCV's area resize gives it (cells of 4 x 3 pixels here), from a BGR frame or its gray copy."""
    frame = _frames(woman_video, 1)[0].image
    box = (330, 150, 330 + 64, 150 + 48)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    expected = cv2.resize(gray[150:198, 330:394].astype(np.float32), (16, 16), interpolation=cv2.INTER_AREA)
    expected -= expected.mean()
    expected /= np.linalg.norm(expected)
    for image in (frame, gray):
        thumbnail = box_thumbnail(image, box)
        # OpenCV's gray is rounded to whole levels; the thumbnail's is not.
        assert thumbnail.shape == (16, 16) and np.abs(thumbnail - expected).max() < 0.01
    assert box_thumbnail(np.full_like(frame, 90), box) is None, "a flat box has no thumbnail"
    assert box_thumbnail(frame, (-40, 10, 4, 50)) is None, "a box all but off the frame has none"


@pytest.mark.parametrize("scale", [0.25, 0.3, 0.6, 1.0, 1.5])
def test_scaled_gray_has_the_size_opencv_would_give(scale):
    noise = np.random.default_rng(0).integers(0, 256, (108, 192, 3), dtype=np.uint8)
    image = cv2.resize(noise, (1920, 1080), interpolation=cv2.INTER_CUBIC)  # detail at every scale tried
    expected = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    scaled = scaled_gray(image, scale)
    assert scaled.shape == expected.shape
    # Area averaging then linear resampling: close to OpenCV's one-step area resize.
    assert np.abs(scaled.astype(float) - expected.astype(float)).mean() < 3.0


def test_a_still_hog_misses_is_found_by_the_cnn_and_counted(woman_video):
    """A head tilted 50 degrees: HOG finds nothing, dlib's CNN finds the face, and says it did."""
    frame = _frames(woman_video, 1)[0].image
    tilted = cv2.warpAffine(frame, cv2.getRotationMatrix2D((320, 180), 50, 1.0), (640, 360))
    assert FaceFinder(cnn_fallback=False).find(tilted) == []
    finder = FaceFinder()
    (face,) = finder.find(tilted)
    assert finder.found_by == {"cnn": 1}
    # The landmarks sit on the face: the eyes inside the box, above its middle (the head is upright-ish).
    left, top, right, bottom = face.box
    eyes = face.landmarks[36:48]
    assert np.all((eyes[:, 0] > left) & (eyes[:, 0] < right) & (eyes[:, 1] > top) & (eyes[:, 1] < bottom))
    labelled = tuple(float(v) for v in face.box)
    _, detector = finder.face_for_label(tilted, labelled)
    assert detector == "cnn"
    _, detector = FaceFinder(cnn_fallback=False).face_for_label(tilted, labelled)
    assert detector == "label"


def test_a_tracks_box_follows_new_landmarks_and_a_new_placement(finder, woman_video):
    """The box a track hands on is worked out once for its landmarks; either array replaced, it moves with it."""
    from glare.faces import _box_around

    frame = _frames(woman_video, 1)[0].image
    tracker = FaceTracker(TrackerSettings(search_in_thread=False), finder)
    tracker.update(frame, 0.0)
    (track,) = tracker._tracks
    first = track.box()
    assert track.box() == first
    track.raw_landmarks = track.raw_landmarks + (25.0, -10.0)
    moved = track.box()
    assert moved == pytest.approx((first[0] + 25.0, first[1] - 10.0, first[2] + 25.0, first[3] - 10.0))
    track.box_from_landmarks = track.box_from_landmarks + (0.1, 0.0, 0.1, 0.0)
    assert track.box() == _box_around(track.raw_landmarks, track.box_from_landmarks)
    assert track.box()[0] > moved[0]


def test_a_lost_face_is_looked_for_where_it_was_and_no_frame_waits_for_the_worker(finder, woman_video, monkeypatch):
    """The frame after a face was lost (its fit thrown off it) waited for the worker's whole-frame search, on a
    clip read back to back, and that search was queued behind the face's confirmations and the search for new
    faces: 11-36 ms. Now the lost face is looked for in its own surroundings on the frame's path, the search
    for new faces under way is the whole-frame look-again, the rest is called off, and no frame waits."""
    frames = [f.image for f in _frames(woman_video, 6)]
    tracker = FaceTracker(TrackerSettings(detect_every=1, new_faces_every=2), finder)
    (face,) = tracker.update(frames[0], 0.0)
    for index in range(1, 3):
        assert len(tracker.update(frames[index], index / 30)) == 1
    assert len(tracker.background._pending) > 1, "no confirmation and search for new faces asked for"
    waited, started, real_start = [], [], tracker.background.start

    def start(key, *rest, **named):
        started.append(key)
        return real_start(key, *rest, **named)

    monkeypatch.setattr(tracker.background, "wait", lambda: waited.append(1))
    monkeypatch.setattr(tracker.background, "start", start)
    with monkeypatch.context() as patch:
        patch.setattr(tracker, "_plausible", lambda landmarks, shape: False)  # a hand throws the fit off
        assert tracker.update(frames[3], 3 / 30) == []
    started.clear()
    assert tracker.update(covered(frames[4], face.box), 4 / 30) == []  # still behind the hand
    assert list(tracker.background._pending) == ["look again"]
    assert started == [], "a second whole-frame search was queued behind the one under way"
    assert [f.track_id for f in tracker.update(frames[5], 5 / 30)] == [face.track_id]
    tracker.close()
    assert not waited, "a frame waited for the worker"


class _AnsweredWhenWaitedFor(BackgroundDetector):
    """A worker on a machine so busy that a search's answer is there only once a frame has waited for it."""

    def __init__(self):
        super().__init__()
        self._waited_for: set = set()

    def wait(self):
        self._waited_for |= set(self._pending)
        super().wait()

    def take(self, key):
        if key not in self._waited_for:
            return None
        self._waited_for.discard(key)
        return super().take(key)


def test_a_face_that_comes_back_after_the_lost_faces_moment_is_found_on_a_busy_machine(finder, woman_video):
    """A whole-frame look-again under way while the lost face was still looked for where it was was not waited
    for once that moment (``REACQUIRE_S``) had passed, and no new one could start behind it: with a worker that
    answers only once a frame waits for it (a file read back to back), the face that came back was never found."""
    frames = [f.image for f in _frames(woman_video, 2)]
    tracker = FaceTracker(TrackerSettings(detect_every=1, new_faces_every=2), finder)
    tracker.background.close()
    tracker.background = _AnsweredWhenWaitedFor()
    (face,) = tracker.update(frames[0], 0.0)
    hidden = covered(frames[1], face.box)
    index = 1
    while tracker.update(hidden, index / 30):
        index += 1
        assert index < 12, "the covered face was never dropped"
    lost_at = index / 30
    while index / 30 <= lost_at + REACQUIRE_S:  # behind the hand until the lost face's moment has passed
        index += 1
        assert tracker.update(hidden, index / 30) == []
    found = [tracker.update(frames[1], (index + k) / 30) for k in range(1, 4)]
    tracker.close()
    assert found[-1], "the face that came back was never found"


def test_forgotten_searches_not_yet_begun_are_called_off():
    """A search queued behind a running one and then forgotten never runs: its answer would go unheard."""
    import threading

    release, ran = threading.Event(), []
    worker = BackgroundDetector()

    def search(image, scale, origin):
        ran.append(int(image[0, 0]))
        release.wait()
        return []

    worker._search = search
    worker.start("first", np.full((4, 4), 1, np.uint8), 1.0)
    worker.start("second", np.full((4, 4), 2, np.uint8), 1.0)
    worker.forget()
    release.set()
    worker._executor.submit(lambda: None).result()  # the one worker runs what was queued in turn: all done now
    worker.close()
    assert ran in ([1], [])
    assert worker.take("first") is None and worker.take("second") is None


def test_a_face_found_where_it_was_lost_but_not_yet_followable_keeps_its_id(finder, woman_video, monkeypatch):
    """Found again where it was lost while its landmarks still could not be followed (a hand across it), the
    face gave up its id to that try: when it could be followed, it came back as a new face and its effect
    started over."""
    frames = [f.image for f in _frames(woman_video, 4)]
    tracker = FaceTracker(TrackerSettings(detect_every=1), finder)
    (face,) = tracker.update(frames[0], 0.0)
    with monkeypatch.context() as patch:
        patch.setattr(tracker, "_plausible", lambda landmarks, shape: False)  # a hand throws the fit off
        assert tracker.update(frames[1], 1 / 30) == []
        assert tracker.update(frames[2], 2 / 30) == []  # found where it was, its fit thrown again
    assert [track_id for track_id, _, _ in tracker._dropped] == [face.track_id]
    assert [f.track_id for f in tracker.update(frames[3], 3 / 30)] == [face.track_id]
    tracker.close()
