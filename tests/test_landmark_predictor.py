"""The trimmed copy of dlib's landmark predictor that follows faces in live video."""

from pathlib import Path

import cv2
import dlib
import numpy as np
import pytest

from glare.engine import AnalysisSettings, Engine, EngineSettings
from glare.faces import FaceFinder, FaceTracker, TrackerSettings, dlib_landmark_model_path
from glare.landmark_predictor import PredictorTrim, cascade_sizes, live_predictor_path, trim_predictor
from glare.runner import RunSettings


@pytest.fixture(scope="module")
def dlib_model() -> Path:
    return Path(dlib_landmark_model_path())


@pytest.fixture(scope="module")
def dlib_bytes(dlib_model: Path) -> bytes:
    return dlib_model.read_bytes()


def test_trimming_keeps_the_first_trees_of_later_cascades_and_everything_else_byte_for_byte(dlib_bytes, tmp_path):
    sizes = cascade_sizes(dlib_bytes)
    assert sizes == [500] * 15
    trimmed = trim_predictor(dlib_bytes, PredictorTrim(whole_cascades=2, later_trees=300))
    assert cascade_sizes(trimmed) == [500, 500] + [300] * 13
    # Keeping every tree writes the file back unchanged: nothing outside the trees is touched.
    assert trim_predictor(dlib_bytes, PredictorTrim(whole_cascades=0, later_trees=500)) == dlib_bytes
    path = tmp_path / "trimmed.dat"
    path.write_bytes(trimmed)
    dlib.shape_predictor(str(path))  # dlib reads it back


def test_the_trimmed_predictor_fits_a_face_where_the_whole_one_does(data_dir, tmp_path):
    cache = tmp_path / "cache"
    trimmed = FaceFinder(landmark_model=live_predictor_path(Path(dlib_landmark_model_path()), PredictorTrim(), cache))
    cut_to_one = FaceFinder(landmark_model=live_predictor_path(Path(dlib_landmark_model_path()), PredictorTrim(0, 1),
                                                               cache))
    whole = FaceFinder()
    moved, moved_by_one_tree = [], []
    for path in sorted((data_dir / "web-faces").glob("*.jpg"))[:12]:
        photo = cv2.imread(str(path))
        faces = whole.find(photo)
        for face in faces:
            inter_ocular = np.linalg.norm(face.landmarks[36:42].mean(axis=0) - face.landmarks[42:48].mean(axis=0))
            for finder, moves in ((trimmed, moved), (cut_to_one, moved_by_one_tree)):
                eyes = finder.landmarks(photo, face.box)[36:48]
                moves.append(np.linalg.norm(eyes - face.landmarks[36:48], axis=1).mean() / inter_ocular)
    assert len(moved) >= 10
    # The trimmed eye points sit about 0.01 inter-ocular distances from the whole model's; one tree a
    # cascade, a fit that stops early, leaves them several times further.
    assert np.median(moved) < 0.02
    assert np.median(moved_by_one_tree) > 2 * np.median(moved)


@pytest.mark.parametrize("damage", ["cut short", "not a predictor"])
def test_a_file_that_is_not_a_whole_predictor_says_to_reinstall(dlib_bytes, damage):
    broken = dlib_bytes[: len(dlib_bytes) // 2] if damage == "cut short" else b"\x01\x07" + dlib_bytes[2:]
    with pytest.raises(ValueError, match="reinstall face-recognition-models"):
        trim_predictor(broken, PredictorTrim())


def test_the_copy_is_made_once_and_written_whole(dlib_model, tmp_path, capsys):
    cache = tmp_path / "cache"
    made = live_predictor_path(dlib_model, PredictorTrim(), cache)
    assert "making a faster copy" in capsys.readouterr().err
    assert made.parent == cache and made != dlib_model
    assert cascade_sizes(made.read_bytes()) == [500, 500] + [300] * 13
    written = made.stat().st_mtime_ns
    assert live_predictor_path(dlib_model, PredictorTrim(), cache) == made
    assert made.stat().st_mtime_ns == written and capsys.readouterr().err == ""
    assert [path.name for path in cache.iterdir()] == [made.name]  # no partial file left beside it


def test_a_cache_that_cannot_be_written_falls_back_to_the_whole_model_and_says_how_to_fix_it(dlib_model, tmp_path,
                                                                                          capsys):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    assert live_predictor_path(dlib_model, PredictorTrim(), blocked) == dlib_model
    assert "GLARE_CACHE" in capsys.readouterr().err


def test_the_trimmed_copy_follows_faces_only_when_asked_and_photos_keep_the_whole_model():
    assert FaceTracker(TrackerSettings()).finder.has_dlib_model
    assert not FaceTracker(TrackerSettings(landmark_trim=PredictorTrim())).finder.has_dlib_model
    assert not FaceTracker(RunSettings(trimmed_landmarks=True).analysis().tracker).finder.has_dlib_model
    engine = Engine(EngineSettings(analysis=AnalysisSettings(TrackerSettings(landmark_trim=PredictorTrim()))))
    engine.process_photo(np.zeros((120, 160, 3), np.uint8))
    assert engine.analyser._photo_finder.has_dlib_model
