"""dlib's landmark predictor read from its file and fitted by compiled code: dlib's points, in less time."""

from pathlib import Path

import cv2
import dlib
import numpy as np
import pytest

from glare.engine import AnalysisSettings, Engine, EngineSettings
from glare.faces import FaceFinder, FaceTracker, TrackerSettings, dlib_landmark_model_path
from glare.landmark_predictor import LandmarkPredictor, PredictorTrim, RegressionCascades, _gray_value, _read_packed
from glare.runner import RunSettings


@pytest.fixture(scope="module")
def dlib_model() -> Path:
    return Path(dlib_landmark_model_path())


def _dlib_points(predictor: dlib.shape_predictor, gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    shape = predictor(gray, dlib.rectangle(*box))
    return np.array([(point.x, point.y) for point in shape.parts()], dtype=np.float64)


def test_the_compiled_fit_gives_dlibs_own_points_on_real_frames(woman_video, dlib_model):
    ours, theirs = LandmarkPredictor(dlib_model), dlib.shape_predictor(str(dlib_model))
    detector = dlib.get_frontal_face_detector()
    video = cv2.VideoCapture(str(woman_video))
    fits = 0
    for frame_number in range(0, 400, 20):
        video.set(cv2.CAP_PROP_POS_FRAMES, frame_number)
        ok, frame = video.read()
        assert ok
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        for found in detector(gray, 0):
            box = found.left(), found.top(), found.right(), found.bottom()
            # As the tracker gives them: shifted, stretched, and running off the frame's edge.
            for left, top, right, bottom in (box, (box[0] + 5, box[1] - 3, box[2] + 9, box[3]),
                                             (box[0] - 400, box[1], box[2], box[3] + 300)):
                fitted = ours(gray, (left, top, right, bottom))
                assert np.array_equal(fitted, _dlib_points(theirs, gray, (left, top, right, bottom)))
                # The colour frame, converted only where the predictor reads it, gives the same points.
                assert np.array_equal(ours(frame, (left, top, right, bottom)), fitted)
                fits += 1
    assert fits >= 45


def test_colour_pixels_are_read_as_opencvs_gray():
    colours = np.random.default_rng(5).integers(0, 256, size=(4, 4096, 3), dtype=np.uint8)
    gray = cv2.cvtColor(colours, cv2.COLOR_BGR2GRAY)
    converted = np.array([[_gray_value(*pixel) for pixel in row] for row in colours])
    assert np.array_equal(converted, gray)


def test_a_predictor_of_another_shape_fits_as_dlib_fits_it(tmp_path):
    """A predictor dlib trained here, with other point, cascade, tree and feature counts than dlib's 68-point
    model: the file's own sizes are read, not assumed."""
    rng = np.random.default_rng(3)
    images, shapes = [], []
    for _ in range(12):
        image = (rng.random((90, 90)) * 60).astype(np.uint8)
        centre = rng.uniform(35, 55, size=2)
        points = [centre + offset for offset in ((-15, -8), (15, -8), (0, 0), (-10, 12), (10, 12))]
        for x, y in points:
            cv2.circle(image, (int(x), int(y)), 4, 230, -1)
        images.append(image)
        shapes.append([dlib.full_object_detection(dlib.rectangle(20, 20, 70, 70),
                                                  [dlib.point(int(x), int(y)) for x, y in points])])
    options = dlib.shape_predictor_training_options()
    options.cascade_depth, options.num_trees_per_cascade_level, options.tree_depth = 4, 6, 2
    options.feature_pool_size, options.oversampling_amount = 60, 2
    path = tmp_path / "five_points.dat"
    dlib.train_shape_predictor(images, shapes, options).save(str(path))
    ours, theirs = LandmarkPredictor(path), dlib.shape_predictor(str(path))
    assert ours.points == 5 and list(ours.model.trees) == [6] * 4
    for image in images:
        for box in ((20, 20, 70, 70), (14, 25, 66, 80)):
            assert np.array_equal(ours(image, box), _dlib_points(theirs, image, box))


def test_a_trimmed_fit_lands_near_the_whole_one(data_dir, dlib_model):
    whole = FaceFinder()
    trimmed = FaceFinder(landmark_trim=PredictorTrim())
    cut_to_one = FaceFinder(landmark_trim=PredictorTrim(0, 1))
    assert list(trimmed._predictor.model.trees) == [500, 500] + [300] * 13
    moved, moved_by_one_tree = [], []
    for path in sorted((data_dir / "web-faces").glob("*.jpg"))[:12]:
        photo = cv2.imread(str(path))
        for face in whole.find(photo):
            inter_ocular = np.linalg.norm(face.landmarks[36:42].mean(axis=0) - face.landmarks[42:48].mean(axis=0))
            for finder, moves in ((trimmed, moved), (cut_to_one, moved_by_one_tree)):
                eyes = finder.landmarks(photo, face.box)[36:48]
                moves.append(np.linalg.norm(eyes - face.landmarks[36:48], axis=1).mean() / inter_ocular)
    assert len(moved) >= 10
    # The trimmed eye points sit about 0.01 inter-ocular distances from the whole model's; one tree a
    # cascade, a fit that stops early, leaves them several times further.
    assert np.median(moved) < 0.02
    assert np.median(moved_by_one_tree) > 2 * np.median(moved)


@pytest.mark.parametrize("damage", ["cut short", "another version", "junk after it"])
def test_a_damaged_file_names_itself_and_says_what_to_do(dlib_model, tmp_path, damage):
    content = dlib_model.read_bytes()
    broken = {"cut short": content[: len(content) // 2], "another version": b"\x01\x07" + content[2:],
              "junk after it": content + b"\x00\x01"}[damage]
    path = tmp_path / "broken.dat"
    path.write_bytes(broken)
    with pytest.raises(ValueError, match="broken.dat is not a dlib shape predictor.*reinstall face-recognition-models"):
        RegressionCascades.read(path)


def test_a_file_whose_split_names_a_pixel_it_lacks_is_refused_before_any_fit(dlib_model, tmp_path):
    """The fit reads through the file's indices unchecked, so a file that would send it outside its arrays
    is refused when read."""
    content = np.frombuffer(dlib_model.read_bytes(), dtype=np.uint8)
    # The first split's first index follows the version, the initial shape's two sizes and 136 floats
    # (two packed integers each), and the counts of cascades, trees and splits.
    position = 0
    for _ in range(1 + 2 + 2 * 136 + 3):
        _, position = _read_packed(content, position)
    index, after = _read_packed(content, position)
    assert 0 <= index < 500
    # 500, packed: two little-endian bytes; one past the 500 feature pixels of the cascade.
    damaged = content[:position].tobytes() + bytes([0x02, 0xF4, 0x01]) + content[after:].tobytes()
    path = tmp_path / "bad_split.dat"
    path.write_bytes(damaged)
    with pytest.raises(ValueError, match="a split names a feature pixel it does not have"):
        RegressionCascades.read(path)


def test_the_trim_follows_faces_only_when_asked_and_photos_keep_the_whole_model(tmp_path):
    assert FaceTracker(TrackerSettings()).finder.has_dlib_model
    assert not FaceTracker(TrackerSettings(landmark_trim=PredictorTrim())).finder.has_dlib_model
    assert not FaceTracker(RunSettings(trimmed_landmarks=True).analysis().tracker).finder.has_dlib_model
    engine = Engine(EngineSettings(analysis=AnalysisSettings(TrackerSettings(landmark_trim=PredictorTrim()))))
    engine.process_photo(np.zeros((120, 160, 3), np.uint8))
    assert engine.analyser._photo_finder.has_dlib_model
