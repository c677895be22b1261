"""training/: prepare on real photos, augmentation geometry, a tiny coarse-to-fine run, export parity, hub backbone."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="the training tests need TensorFlow: pip install -e '.[dev]'")

from glare.eyes import CropGeometry, apply_affine, eyes_from_landmarks, upright_crop  # noqa: E402
from glare.faces import FaceFinder  # noqa: E402
from glare.labeler.labels import LabelFile, ImageLabels, LabelledPoint  # noqa: E402
from glare.training.augment import AugmentSettings, augment_example  # noqa: E402
from glare.training.data import load_samples, select  # noqa: E402
from glare.training.export import export, label_offset  # noqa: E402
from glare.training.model import ModelSettings, build_model  # noqa: E402
from glare.training.prepare import PrepareSettings, prepare, write_chunk, write_manifest  # noqa: E402
from glare.training.train import StageSettings, TrainSettings, train  # noqa: E402

ASTRONAUT = Path(__file__).resolve().parent.parent / "glare" / "assets" / "astronaut.jpg"


@pytest.fixture(scope="module")
def astronaut_pupils():
    """The astronaut's eyes as glare sees them: (right, left) Eye objects in image pixels."""
    import cv2

    image = cv2.imread(str(ASTRONAUT), cv2.IMREAD_GRAYSCALE)
    face = FaceFinder().find(image)[0]
    return eyes_from_landmarks(face.landmarks)


@pytest.fixture()
def photos(tmp_path, astronaut_pupils):
    folder = tmp_path / "photos"
    (folder / "someone").mkdir(parents=True)
    shutil.copy(ASTRONAUT, folder / "Ann_Astro_0001.jpg")
    shutil.copy(ASTRONAUT, folder / "someone" / "Ann_Astro_0002.jpg")
    (folder / "someone" / "broken.jpg").write_bytes(b"this is no jpeg")
    right, left = astronaut_pupils
    hand_right, hand_left = right.centre + (1.5, -0.5), left.centre + (-1.0, 0.5)
    labels = LabelFile(tmp_path / "labels.json", "pupils")
    labels.images[labels.key_for(folder / "Ann_Astro_0001.jpg")] = ImageLabels(
        {"right_pupil": LabelledPoint(tuple(hand_right), "hand", "t"),
         "left_pupil": LabelledPoint(tuple(hand_left), "hand", "t")}, confirmed=True)
    labels.save()
    return folder, labels.path, (hand_right, hand_left)


def test_prepare_labels_splits_skips_and_resumes(tmp_path, photos, astronaut_pupils):
    folder, label_path, hand = photos
    settings = PrepareSettings(out=tmp_path / "eyes", images=(folder,), labels=(label_path,), workers=2, chunk_size=2)
    summary = prepare(settings, progress=False)

    assert summary.images == 3 and summary.unreadable == [str((folder / "someone" / "broken.jpg").resolve())]
    samples = load_samples(settings.out)
    assert samples.crops.shape == (4, 40, 64) and samples.crops.dtype == np.uint8
    sources = {(Path(r["image"]).parent.name, r["side"]): r["source"] for r in samples.records}
    assert sources == {("photos", "right"): "hand:labels.json", ("photos", "left"): "hand:labels.json",
                       ("someone", "right"): "meanshift", ("someone", "left"): "meanshift"}
    assert {r["split"] for r in samples.records} == {samples.records[0]["split"]}, "one person, one split"
    # The hand label lands in the crop where the runtime's transform puts it.
    import cv2

    image = cv2.imread(str(ASTRONAUT), cv2.IMREAD_GRAYSCALE)
    for eye, hand_point in zip(astronaut_pupils, hand):
        index = next(i for i, r in enumerate(samples.records)
                     if r["source"].startswith("hand") and r["side"] == eye.side)
        crop = upright_crop(image, eye, CropGeometry())
        expected = apply_affine(crop.to_crop, np.array([hand_point]))[0]
        assert samples.points[index, 2] == pytest.approx(expected, abs=0.05)
    manifest = (settings.out / "manifest.jsonl").read_text().splitlines()
    assert len(manifest) == 4 and json.loads(manifest[0])["chunk"] == 0

    chunk_times = {p: p.stat().st_mtime_ns for p in (settings.out / "chunks").glob("*.npz")}
    again = prepare(settings, progress=False)
    assert again.chunks_reused == 2
    assert {p: p.stat().st_mtime_ns for p in (settings.out / "chunks").glob("*.npz")} == chunk_times
    with pytest.raises(ValueError, match="--fresh"):
        prepare(PrepareSettings(out=settings.out, images=(folder,), workers=1, chunk_size=2), progress=False)


def test_prepare_refuses_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="--images"):
        prepare(PrepareSettings(out=tmp_path / "eyes", images=(tmp_path / "nowhere",)), progress=False)


def _dot_crop(points, geometry=CropGeometry()):
    yy, xx = np.mgrid[0:geometry.height, 0:geometry.width]
    image = np.zeros((geometry.height, geometry.width), np.float32)
    for x, y in points:
        image += 255 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.2 ** 2))
    return image


def test_augmentation_moves_points_with_the_pixels():
    settings = AugmentSettings(max_brightness=0, contrast_range=(1, 1), blur_probability=0, max_noise_std=0,
                               max_rotation_deg=15, max_scale_change=0.15, max_shift_px=3)
    points = np.array([[14.0, 21.0], [50.0, 19.0], [33.0, 20.0]], np.float32)
    # Only the image-left corner and the pupil are labelled: the weights must travel with their points.
    target = np.concatenate([points.reshape(6), [1, 0, 1]]).astype(np.float32)
    flipped = 0
    for seed in range(12):
        image, moved = augment_example(tf.constant(_dot_crop(points)[..., None]), tf.constant(target), settings,
                                       tf.constant([3, seed]))
        image, moved = image.numpy()[..., 0], moved.numpy()
        new_points = moved[:6].reshape(3, 2)
        assert moved[6:].tolist() in ([1, 0, 1], [0, 1, 1])
        flipped += moved[6] == 0
        assert new_points[0, 0] < new_points[1, 0], "after a flip the image-left corner is still the left one"
        for x, y in new_points:
            x0, y0 = int(round(x)), int(round(y))
            window = image[y0 - 3:y0 + 4, x0 - 3:x0 + 4]
            yy, xx = np.mgrid[y0 - 3:y0 + 4, x0 - 3:x0 + 4]
            centroid = np.array([(window * xx).sum(), (window * yy).sum()]) / window.sum()
            assert centroid == pytest.approx([x, y], abs=0.35)
    assert 0 < flipped < 12


def test_augmentation_is_decided_by_its_seed():
    crop, target = tf.constant(_dot_crop([[33.0, 20.0]])[..., None]), tf.constant([14, 21, 50, 19, 33, 20, 1, 1, 1.0])
    first, again, other = (augment_example(crop, target, AugmentSettings(), tf.constant(seed))[0].numpy()
                           for seed in ([5, 1], [5, 1], [5, 2]))
    assert np.array_equal(first, again) and not np.allclose(first, other)


def _synthetic_dataset(folder: Path, count: int = 96) -> Path:
    """Dark discs on bright crops at random pupils, written as prepare writes a dataset."""
    rng = np.random.default_rng(0)
    geometry = CropGeometry()
    pupils = np.stack([rng.uniform(22, 42, count), rng.uniform(15, 25, count)], axis=1)
    yy, xx = np.mgrid[0:geometry.height, 0:geometry.width]
    crops = np.array([200 - 150 * (np.hypot(xx - x, yy - y) < 6) for x, y in pupils], np.uint8)
    corners = np.array([[12.0, 20.0], [51.0, 20.0]])
    points = np.array([np.vstack([corners, pupil]) for pupil in pupils], np.float32)
    splits = ["train", "val", "test"]
    records = [{"image": f"img{i}.jpg", "side": "right", "split": splits[i % 3] if i % 3 else "train",
                "group": f"g{i}", "source": "meanshift" if i % 2 else "hand:synthetic", "coarse_confidence": 1.0,
                "openness": 0.3, "eye_width_px": 40.0, "face": 0} for i in range(count)]
    (folder / "chunks").mkdir(parents=True)
    write_chunk(folder / "chunks" / "00000.npz", crops, points, np.ones((count, 3), np.float32),
                {"records": records, "unreadable": [], "no_face": 0, "images": count})
    write_manifest(folder, total_chunks=1)
    return folder


def test_tiny_training_run_export_parity_and_the_runtime_locator(tmp_path):
    from glare.pupils.model import ModelLocator, ModelLocatorSettings

    dataset = _synthetic_dataset(tmp_path / "eyes")
    samples = load_samples(dataset)
    assert len(select(samples, "train", fine=False)) and len(select(samples, "train", fine=True))
    result = train(TrainSettings(dataset=dataset, out=tmp_path / "model", coarse=StageSettings(1, 2e-3),
                                 fine=StageSettings(2, 1e-3), batch_size=16, verbose=0))
    assert [stage.name for stage in result.stages] == ["coarse", "fine"]
    assert result.model_path.is_file() and result.curves_png.stat().st_size > 0
    assert np.isfinite(result.val_pupil_error_px)
    assert json.loads((tmp_path / "model" / "training.json").read_text())["stages"][1]["epochs_run"] == 2

    labelled = select(samples, "train", fine=True)
    check = export(result.model_path, tmp_path / "export", samples.crops[:40], offset_samples=labelled)
    assert check.samples == 40 and check.max_abs_px < 1e-3
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["eye_model.json", "eye_model.tflite"]
    description = json.loads((tmp_path / "export" / "eye_model.json").read_text())
    assert description["geometry"] == {"width": 64, "height": 40, "eye_span": 0.6}
    assert description["label_offset"]["eyes"] == len(labelled)

    locator = ModelLocator(ModelLocatorSettings(model_path=tmp_path / "export" / "eye_model.tflite"))
    assert locator.available
    from conftest import synthetic_eye_frame

    frame, landmarks = synthetic_eye_frame((104.0, 60.0))
    eyes = eyes_from_landmarks(np.vstack([np.zeros((36, 2)), landmarks, landmarks]))
    pupils = locator.locate([upright_crop(frame, eye, locator.geometry) for eye in eyes])
    assert len(pupils) == 2 and all(0.0 <= p.confidence <= 1.0 for p in pupils)


def test_the_labels_offset_is_their_median_distance_right_of_the_models_pupils(tmp_path):
    """Labels moved 0.7 px right move the offset 0.7 px; only labelled pupils count; none is an error
    that says what to do; ``calibrate`` records it in an exported model's JSON and keeps the rest."""
    from glare.training.cli import main

    dataset = _synthetic_dataset(tmp_path / "eyes")
    result = train(TrainSettings(dataset=dataset, out=tmp_path / "model", coarse=StageSettings(1, 2e-3),
                                 fine=StageSettings(1, 1e-3), batch_size=16, verbose=0))
    samples = load_samples(dataset)
    export(result.model_path, tmp_path / "export", samples.crops[:16])
    model = tmp_path / "export" / "eye_model.tflite"
    labelled = select(samples, "train", fine=True)
    base = label_offset(model.read_bytes(), labelled)
    moved = labelled.subset(np.ones(len(labelled), bool))
    moved.points[:, 2, 0] += 0.7
    assert label_offset(model.read_bytes(), moved).pupil_x_px == pytest.approx(base.pupil_x_px + 0.7, abs=1e-4)
    unknown = labelled.subset(np.ones(len(labelled), bool))
    unknown.point_weights[: len(unknown) // 2 + 1, 2] = 0
    unknown.points[: len(unknown) // 2 + 1, 2, 0] += 30.0  # unlabelled pupils: their points mean nothing
    assert label_offset(model.read_bytes(), unknown).eyes == len(unknown) - (len(unknown) // 2 + 1)
    assert abs(label_offset(model.read_bytes(), unknown).pupil_x_px - base.pupil_x_px) < 15
    unknown.point_weights[:, 2] = 0
    with pytest.raises(ValueError, match="no hand-labelled pupils.*--labels"):
        label_offset(model.read_bytes(), unknown)

    before = json.loads(model.with_suffix(".json").read_text())
    assert "label_offset" not in before
    assert main(["calibrate", "--model", str(model), "--dataset", str(dataset)]) == 0
    after = json.loads(model.with_suffix(".json").read_text())
    assert after["label_offset"]["pupil_x_px"] == pytest.approx(base.pupil_x_px, abs=1e-6)
    assert {key: value for key, value in after.items() if key != "label_offset"} == before


def _trained_weights(settings: TrainSettings) -> list[np.ndarray]:
    from glare.training.model import load_trained_model

    return [np.asarray(w) for w in load_trained_model(train(settings).model_path).weights]


def test_training_is_reproducible_from_its_seed(tmp_path):
    dataset = _synthetic_dataset(tmp_path / "eyes", count=48)

    def settings(run: str, seed: int) -> TrainSettings:
        return TrainSettings(dataset=dataset, out=tmp_path / run, coarse=StageSettings(1, 2e-3),
                             fine=StageSettings(1, 1e-3), batch_size=16, seed=seed, verbose=0)

    first, again, other = (_trained_weights(settings(run, seed)) for run, seed in (("a", 7), ("b", 7), ("c", 8)))
    assert all(np.array_equal(x, y) for x, y in zip(first, again)), "the same seed trains the same weights"
    assert not all(np.array_equal(x, y) for x, y in zip(first, other))


def test_step_schedule_halves_the_rate_every_step(tmp_path):
    dataset = _synthetic_dataset(tmp_path / "eyes", count=48)
    result = train(TrainSettings(dataset=dataset, out=tmp_path / "model", schedule="step", step_epochs=2,
                                 coarse=StageSettings(0, 1e-3), fine=StageSettings(5, 4e-3, patience=10),
                                 batch_size=16, verbose=0))
    rates = result.stages[0].history["learning_rate"]
    assert rates == pytest.approx([4e-3, 4e-3, 2e-3, 2e-3, 1e-3])


def test_the_distance_loss_grows_with_the_error_not_its_square_and_skips_unlabelled_points():
    from glare.training.model import weighted_point_distance, weighted_point_mse

    labels = np.array([[10.0, 20.0, 50.0, 20.0, 30.0, 18.0]], np.float32)
    pupil_only = np.array([[0.0, 0.0, 1.0]], np.float32)  # corners unlabelled: a hand label gives the pupil only

    def losses(pupil_error_px: float, corner_error_px: float) -> tuple[float, float]:
        predicted = labels + np.array([[corner_error_px, 0, 0, corner_error_px, 0, pupil_error_px]], np.float32)
        targets = np.concatenate([labels, pupil_only], axis=1)
        return (float(weighted_point_distance(targets, predicted)[0]), float(weighted_point_mse(targets, predicted)[0]))

    one, two, two_with_corners_off = losses(1.0, 0.0), losses(2.0, 0.0), losses(2.0, 5.0)
    assert one[0] == pytest.approx(1.0, abs=0.01) and two[0] == pytest.approx(2.0, abs=0.01)
    assert two[1] == pytest.approx(4 * one[1])  # the squared error, for comparison
    assert two_with_corners_off == pytest.approx(two)


def test_the_loss_is_chosen_by_name_and_an_unknown_one_says_what_to_use(tmp_path):
    dataset = _synthetic_dataset(tmp_path / "eyes", count=32)

    def first_loss(loss: str) -> float:
        result = train(TrainSettings(dataset=dataset, out=tmp_path / loss, loss=loss, coarse=StageSettings(0, 1e-3),
                                     fine=StageSettings(1, 1e-3), batch_size=16, verbose=0))
        return result.stages[0].history["loss"][0]

    distance, squared = first_loss("distance"), first_loss("mse")
    assert squared > 2 * distance  # an untrained model is pixels off: the squares are far larger
    with pytest.raises(ValueError, match="distance, mse"):
        first_loss("huber")


def test_training_goes_on_from_a_given_model_and_refuses_one_of_another_crop_size(tmp_path):
    dataset = _synthetic_dataset(tmp_path / "eyes", count=32)
    first = train(TrainSettings(dataset=dataset, out=tmp_path / "first", coarse=StageSettings(1, 2e-3),
                                fine=StageSettings(1, 1e-3), batch_size=16, verbose=0))
    from glare.training.model import load_trained_model

    def trainable(path: Path) -> list[np.ndarray]:
        return [np.asarray(w) for w in load_trained_model(path).trainable_weights]

    # An epoch at a vanishing rate on top: the weights are the ones started from, not new ones.
    again = train(TrainSettings(dataset=dataset, out=tmp_path / "again", start_from=first.model_path,
                                coarse=StageSettings(0, 2e-3), fine=StageSettings(1, 1e-9), batch_size=16, verbose=0))
    assert all(np.allclose(x, y, atol=1e-5) for x, y in zip(trainable(first.model_path), trainable(again.model_path)))
    with pytest.raises(ValueError, match="nothing to train"):
        train(TrainSettings(dataset=dataset, out=tmp_path / "idle", start_from=first.model_path,
                            coarse=StageSettings(0, 2e-3), fine=StageSettings(0, 1e-3), verbose=0))
    other_size = tmp_path / "other.keras"
    build_model(CropGeometry(width=48, height=30)).save(other_size)
    with pytest.raises(ValueError, match="takes 48x30 crops, the dataset's are 64x40"):
        train(TrainSettings(dataset=dataset, out=tmp_path / "refused", start_from=other_size, verbose=0))
    with pytest.raises(FileNotFoundError, match="missing.keras does not exist: start from a model.keras"):
        train(TrainSettings(dataset=dataset, out=tmp_path / "refused", start_from=tmp_path / "missing.keras", verbose=0))


def test_the_model_card_reports_every_seed_and_marks_the_shipped_one():
    from glare.evaluation import EvalReport
    from glare.training.export import Parity
    from glare.training.reproduce import SeedRun, spread_table

    def run(seed, val_error, errors):
        report = EvalReport(["model"], {"model": errors}, ["400x400"] * len(errors))
        return SeedRun(seed, Path(f"seed-{seed}"), {"val_pupil_error_px": val_error, "test_pupil_error_px": 1.0},
                       Parity(1, 0.0, 0.0), report)

    runs = [run(7, 1.8, [0.01, 0.04, 0.2, 0.03]), run(8, 1.7, [0.02, 0.02, 0.06, 0.01])]
    table = spread_table(runs, min(runs, key=lambda r: r.val_pupil_error_px))
    assert "| 8 | 1.700 | 1.000 | 75.0% | 75.0% | shipped |" in table
    assert "| 7 | 1.800 | 1.000 | 25.0% | 75.0% |  |" in table
    assert "e<=0.025: 25.0% to 75.0%, e<=0.05: 75.0% to 75.0%" in table
    from glare.training.reproduce import _offset_words

    assert "sit +0.213 crop px right" in _offset_words({"pupil_x_px": 0.2129, "eyes": 7887})
    assert "Not measured" in _offset_words(None)


def _save_hub_feature_vector(folder: Path) -> np.ndarray:
    """A TF2 reusable SavedModel as TF Hub publishes feature vectors: a callable with its variables
    listed. Returns the kernel it was saved with."""

    class Features(tf.train.Checkpoint):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.random.stateless_normal([3, 3, 3, 8], seed=[1, 2]) * 0.2)
            self.variables = [self.kernel]
            self.trainable_variables = [self.kernel]

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        def __call__(self, images):
            return tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(images, self.kernel, 2, "SAME")), axis=[1, 2])

    module = Features()
    tf.saved_model.save(module, str(folder))
    return module.kernel.numpy()


def test_hub_backbone_fine_tunes_through_tensorflow_hub(tmp_path):
    hub = pytest.importorskip("tensorflow_hub")
    saved_kernel = _save_hub_feature_vector(tmp_path / "hub")
    settings = ModelSettings(backbone=f"hub:{tmp_path / 'hub'}", hub_input_size=(32, 20))
    assert any(isinstance(layer, hub.KerasLayer) for layer in build_model(settings=settings).layers)

    # Two steps (16 training eyes, one batch an epoch): the head's last layer starts at zero, so the
    # first step cannot reach the backbone yet.
    dataset = _synthetic_dataset(tmp_path / "eyes", count=48)
    result = train(TrainSettings(dataset=dataset, out=tmp_path / "model", batch_size=16, verbose=0, model=settings,
                                 coarse=StageSettings(0, 1e-3), fine=StageSettings(2, 1e-2)))
    from glare.training.model import load_trained_model

    trained = load_trained_model(result.model_path)
    hub_layer = next(layer for layer in trained.layers if isinstance(layer, hub.KerasLayer))
    assert not np.allclose(np.asarray(hub_layer.trainable_weights[0]), saved_kernel), "the hub weights train"
    assert export(result.model_path, tmp_path / "export", load_samples(dataset).crops[:16]).max_abs_px < 1e-3


def test_a_hub_handle_is_found_in_the_hub_cache_without_a_download(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow_hub")
    import hashlib

    from glare.training.hub_model import resolve_handle

    handle = "https://tfhub.dev/glare-tests/eye-features/1"
    cached = tmp_path / "cache" / hashlib.sha1(handle.encode()).hexdigest()
    _save_hub_feature_vector(cached)
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    assert Path(resolve_handle(handle)) == cached
    with pytest.raises(ValueError, match="not a SavedModel folder"):
        resolve_handle(str(tmp_path / "missing"))


def test_a_saved_model_with_nothing_to_train_is_refused(tmp_path):
    pytest.importorskip("tensorflow_hub")
    frozen = tf.train.Checkpoint()
    frozen.__call__ = tf.function(lambda images: tf.reduce_mean(images, axis=[1, 2]),
                                  input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    tf.saved_model.save(frozen, str(tmp_path / "frozen"))
    with pytest.raises(ValueError, match="no trainable_variables"):
        build_model(settings=ModelSettings(backbone=f"hub:{tmp_path / 'frozen'}", hub_input_size=(32, 20)))


def test_an_unknown_backbone_says_what_to_use():
    with pytest.raises(ValueError, match="'compact' or 'hub:PATH'"):
        build_model(settings=ModelSettings(backbone="resnet"))


def test_a_heatmap_gives_the_expected_place_of_each_point_in_crop_pixels():
    from glare.training.model import SpatialExpectation

    geometry, stride = CropGeometry(), 2
    height, width = geometry.height // stride, geometry.width // stride
    logits = np.full((1, height, width, 3), -60.0, np.float32)
    logits[0, 3, 5, 0] = 60.0                               # one sure cell: its centre
    logits[0, 10, 7, 1] = logits[0, 10, 8, 1] = 60.0        # two cells alike: half way between them
    logits[0, height - 1, width - 1, 2] = 60.0              # the last cell: the crop's last pixels' middle
    points = SpatialExpectation(stride)(logits).numpy().reshape(3, 2)
    # A cell covers pixels stride*i .. stride*i + stride - 1, pixel centres at whole numbers.
    np.testing.assert_allclose(points, [[10.5, 6.5], [15.5, 20.5], [geometry.width - 1.5, geometry.height - 1.5]],
                               atol=1e-4)


def test_a_heatmap_model_trains_exports_and_runs_in_the_runtime(tmp_path):
    from glare.pupils.model import EyeModel

    dataset = _synthetic_dataset(tmp_path / "eyes")
    samples = load_samples(dataset)
    result = train(TrainSettings(dataset=dataset, out=tmp_path / "model", model=ModelSettings(head="heatmap"),
                                 coarse=StageSettings(1, 2e-3), fine=StageSettings(3, 2e-3), batch_size=16, verbose=0))
    losses = result.stages[-1].history["loss"]
    assert losses[-1] < losses[0], "the points' loss trains the maps"
    check = export(result.model_path, tmp_path / "export", samples.crops[:40])
    assert check.max_abs_px < 1e-3
    answers = EyeModel(tmp_path / "export" / "eye_model.tflite").predict(samples.crops[:4])
    assert answers.shape == (4, 3, 2) and np.all((answers >= 0) & (answers <= 63))


def test_a_hub_backbone_with_a_heatmap_head_is_refused_with_what_to_use():
    with pytest.raises(ValueError, match="--head dense"):
        build_model(settings=ModelSettings(backbone="hub:/nowhere", head="heatmap"))


def test_models_averaged_are_one_model_whose_points_are_their_mean(tmp_path):
    """Two trained models (a dense and a heatmap head, and two of one architecture) become one model, one
    TFLite file and one call at the runtime's side, answering the mean of their points."""
    from glare.pupils.model import EyeModel
    from glare.training.average import save_average
    from glare.training.model import load_trained_model

    dataset = _synthetic_dataset(tmp_path / "eyes", count=48)
    crops = load_samples(dataset).crops[:8]

    def trained(run: str, head: str, seed: int) -> Path:
        return train(TrainSettings(dataset=dataset, out=tmp_path / run, model=ModelSettings(head=head), seed=seed,
                                   coarse=StageSettings(1, 2e-3), fine=StageSettings(1, 1e-3), batch_size=16,
                                   verbose=0)).model_path

    members = [trained("dense", "dense", 7), trained("heatmap", "heatmap", 7), trained("dense8", "dense", 8)]
    answers = [load_trained_model(path).predict(crops[..., None].astype(np.float32), verbose=0) for path in members]
    for chosen in (members[:2], [members[0], members[2]]):
        averaged = save_average(chosen, tmp_path / f"pair-{len(chosen)}-{chosen[1].parent.name}")
        expected = np.mean([answers[members.index(path)] for path in chosen], axis=0)
        np.testing.assert_allclose(load_trained_model(averaged).predict(crops[..., None].astype(np.float32), verbose=0),
                                   expected, atol=1e-4)
        check = export(averaged, averaged.parent / "export", crops)
        assert check.max_abs_px < 1e-3
        got = EyeModel(averaged.parent / "export" / "eye_model.tflite").predict(crops)
        np.testing.assert_allclose(got.reshape(-1, 6), expected, atol=1e-3)
    with pytest.raises(ValueError, match="at least two"):
        save_average(members[:1], tmp_path / "alone")
