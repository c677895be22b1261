"""glare's `model` pupil locator: the bundled TFLite model on LiteRT, and its fallback to mean-shift."""

from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_eye_frame
from glare.eye_labels import group_key, read_eye_centres, split_of
from glare.evaluation import evaluate
from glare.eyes import eyes_from_landmarks, upright_crop
from glare.pupils import DEFAULT_LOCATOR, LandmarkCentroidLocator, make_locator
from glare.pupils.meanshift import MeanShiftLocator
from glare.pupils.model import BUNDLED_MODEL, ModelLocator, ModelLocatorSettings, mirror_points


def _synthetic_crops(geometry):
    frame, landmarks = synthetic_eye_frame((108.0, 61.0))
    eyes = eyes_from_landmarks(np.vstack([np.zeros((36, 2)), landmarks, landmarks]))
    return [upright_crop(frame, eye, geometry) for eye in eyes]


def test_the_bundled_model_ships_and_is_the_default():
    assert BUNDLED_MODEL.is_file() and BUNDLED_MODEL.with_suffix(".json").is_file()
    assert (BUNDLED_MODEL.parent / "MODEL_CARD.md").is_file()
    assert DEFAULT_LOCATOR == "model"
    locator = make_locator("model")
    assert locator.available
    pupils = locator.locate(_synthetic_crops(locator.geometry))
    assert len(pupils) == 2 and all(0.0 <= p.confidence <= 1.0 for p in pupils)


def test_a_missing_bundled_model_falls_back_to_meanshift_and_says_so(tmp_path, capsys, monkeypatch):
    import glare.pupils.model

    missing = tmp_path / "missing.tflite"
    monkeypatch.setattr(glare.pupils.model, "BUNDLED_MODEL", missing)
    locator = ModelLocator(ModelLocatorSettings(model_path=missing))
    assert not locator.available
    assert "using mean-shift" in capsys.readouterr().err
    crops = _synthetic_crops(locator.geometry)
    assert locator.locate(crops) == MeanShiftLocator().locate(crops)


def test_mean_shift_is_asked_only_where_the_model_is_unsure_of_the_eye_not_where_the_lids_hide_it(monkeypatch):
    """A half-shut eye lowers every locator's confidence alike, so it alone does not hand the eye to mean-shift
    (on such eyes mean-shift's guess was the worse one, and cost 0.1 ms an eye); corners the model places far
    from dlib's do."""
    from glare.openness import pupil_visibility
    from glare.pupils.model import EyeModel

    locator = make_locator("model")
    frame, landmarks = synthetic_eye_frame((108.0, 61.0))
    half_shut = landmarks.copy()
    middle = landmarks[[0, 3], 1].mean()
    half_shut[[1, 2, 4, 5], 1] = middle + 0.3 * (landmarks[[1, 2, 4, 5], 1] - middle)
    crops = [upright_crop(frame, eye, locator.geometry)
             for eye in eyes_from_landmarks(np.vstack([np.zeros((36, 2)), half_shut, landmarks]))]
    visibility = pupil_visibility(crops[0].eye.openness)
    assert 0.0 < visibility < locator.settings.min_confidence <= pupil_visibility(crops[1].eye.openness)
    asked = []
    ask = locator.fallback.locate_in_crop
    monkeypatch.setattr(locator.fallback, "locate_in_crop", lambda crop: asked.append(crop) or ask(crop))

    def answer(corner_miss_px):
        def predict(self, images):
            return np.stack([np.vstack([crop.contour[[0, 3]] + (0.0, corner_miss_px), crop.contour.mean(axis=0)])
                             for crop in crops])
        return predict

    monkeypatch.setattr(EyeModel, "predict", answer(0.0))
    sure_but_half_shut, _ = locator.locate(crops)
    assert asked == [] and sure_but_half_shut.confidence == pytest.approx(visibility)
    monkeypatch.setattr(EyeModel, "predict", answer(12.0))
    locator.locate(crops)
    assert [crop.eye.side for crop in asked] == ["right", "left"]


def test_mirrored_predictions_map_back():
    points = np.array([[[10.0, 20.0], [50.0, 21.0], [31.0, 19.5]]])
    mirrored = mirror_points(points, 64)
    assert mirrored[0].tolist() == [[13.0, 21.0], [53.0, 20.0], [32.0, 19.5]]
    assert np.allclose(mirror_points(mirrored, 64), points)


def test_the_live_locator_runs_each_eye_once_and_the_labellers_adds_the_mirror_images(monkeypatch):
    """The live loop pays for one crop an eye; the labelling tool's doubt (model-mirrored) runs each eye's
    mirror image too, and its answer is the average of the two."""
    from glare.labeler.doubt import doubt_locator
    from glare.pupils.model import EyeModel

    batches = []
    predict = EyeModel.predict
    monkeypatch.setattr(EyeModel, "predict", lambda self, crops: batches.append(crops.copy()) or predict(self, crops))
    live, mirrored = make_locator("model"), doubt_locator()
    crops = _synthetic_crops(live.geometry)
    [one_pass, _] = live.locate(crops)
    [averaged, _] = mirrored.locate(crops)
    assert [len(batch) for batch in batches] == [2, 4]
    assert np.array_equal(batches[1][2:], batches[1][:2, :, ::-1])
    direct = predict(mirrored.model, batches[1][:2])
    flipped = mirror_points(predict(mirrored.model, batches[1][2:]), live.geometry.width)
    assert (live.name, mirrored.name) == ("model", "model-mirrored")
    assert min(one_pass.confidence, averaged.confidence) >= live.settings.min_confidence  # no mean-shift here
    offset = live.model.label_offset
    assert one_pass.centre == pytest.approx(tuple(crops[0].point_to_frame(direct[0, 2] + offset)), abs=1e-6)
    assert averaged.centre == pytest.approx(
        tuple(crops[0].point_to_frame((direct[0, 2] + flipped[0, 2]) / 2 + offset)), abs=1e-6)


def test_the_labels_offset_in_the_models_json_moves_the_pupils_along_the_eye(tmp_path):
    """The offset export measured is added to each pupil in crop pixels; a model exported without one
    (before it was measured) gets none."""
    import json
    import shutil

    description = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    models = {}
    for name, offset in (("none", None), ("zero", 0.0), ("moved", 1.5)):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy2(BUNDLED_MODEL, folder / "eye_model.tflite")
        description.pop("label_offset", None)
        if offset is not None:
            description["label_offset"] = {"pupil_x_px": offset, "eyes": 10}
        (folder / "eye_model.json").write_text(json.dumps(description))
        models[name] = ModelLocator(ModelLocatorSettings(model_path=folder / "eye_model.tflite"))
    crops = _synthetic_crops(models["none"].geometry)
    none, zero, moved = (models[name].locate(crops) for name in ("none", "zero", "moved"))
    assert none == zero
    for crop, still, shifted in zip(crops, zero, moved):
        along = np.asarray(crop.point_to_frame((1.5, 0.0))) - np.asarray(crop.point_to_frame((0.0, 0.0)))
        assert np.asarray(shifted.centre) - np.asarray(still.centre) == pytest.approx(along, abs=1e-6)
        assert np.linalg.norm(along) > 0.1


def test_the_bundled_model_beats_the_baselines_on_held_out_faces(data_dir):
    # The test split: validation faces chose the model's epochs and checkpoints, so they are not held out.
    faces = [face for face in read_eye_centres(data_dir / "eye-centres.txt") if split_of(face.image) == "test"][:200]
    report = evaluate(faces, [make_locator("model"), MeanShiftLocator(), LandmarkCentroidLocator()])
    model, meanshift, centroid = (report.shares(name) for name in ("model", "meanshift", "centroid"))
    for threshold in (0, 1):  # e <= 0.025 and e <= 0.05
        assert model[threshold] > meanshift[threshold] + 0.05
        assert model[threshold] > centroid[threshold] + 0.05


def test_a_model_the_user_names_that_cannot_be_loaded_is_an_error(tmp_path, capsys):
    from glare.cli import main

    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(ValueError, match="garbage.tflite cannot be loaded .*leave --model out"):
        ModelLocator(ModelLocatorSettings(model_path=garbage))
    with pytest.raises(ValueError, match="missing.tflite does not exist"):
        make_locator("model", tmp_path / "missing.tflite")
    # glare eval no longer scores mean-shift under the model's name.
    assert main(["eval", "--model", str(garbage), "--methods", "model", "--limit", "5"]) == 2
    assert "garbage.tflite cannot be loaded" in capsys.readouterr().err
    assert main(["locate", "--model", str(garbage), str(tmp_path)]) == 2
    assert "garbage.tflite cannot be loaded" in capsys.readouterr().err


def test_no_photo_group_is_in_two_splits(data_dir):
    """A split is a function of the group key alone, so one person's or one group photo's faces never
    straddle training and scoring; checked on every labelled face and on keys built to collide."""
    splits_by_group: dict[str, set[str]] = {}
    for face in read_eye_centres(data_dir / "eye-centres.txt"):
        splits_by_group.setdefault(group_key(face.image), set()).add(split_of(face.image))
    assert all(len(splits) == 1 for splits in splits_by_group.values())
    assert {split for splits in splits_by_group.values() for split in splits} == {"train", "val", "test"}
    assert group_key(Path("lfw/Ann_Lee/Ann_Lee_0001.jpg")) == group_key(Path("lfw/Ann_Lee/Ann_Lee_0002.jpg"))
    assert group_key(Path("web-faces/1234_5_1.jpg")) == group_key(Path("web-faces/1234_9_2.jpg"))
