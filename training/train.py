"""train: coarse-to-fine. Pre-train on the mean-shift labels, fine-tune on the hand labels.

Reads top to bottom: data, augmentation, model, compile, fit (per stage), evaluate, curves.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from glare.eyes import CropGeometry
from glare.training.augment import AugmentSettings, make_pipeline
from glare.training.data import EyeSamples, load_samples, select
from glare.training.model import ModelSettings, build_model, compile_model, keras_api, load_trained_model


@dataclass(frozen=True)
class StageSettings:
    epochs: int
    learning_rate: float
    patience: int = 6
    """Early stopping: epochs without a better validation loss before the stage ends."""


@dataclass(frozen=True)
class TrainSettings:
    dataset: Path
    out: Path
    model: ModelSettings = ModelSettings()
    augment: AugmentSettings = AugmentSettings()
    coarse: StageSettings = StageSettings(epochs=20, learning_rate=2e-3)
    fine: StageSettings = StageSettings(epochs=80, learning_rate=1e-3, patience=80)
    """Patience as long as the stage: the fine stage runs its whole cosine decay and keeps its best epoch on the
    validation loss. Stopped after 15 epochs without a better one, it ended while the rate was still high,
    on whichever epoch a noisy validation loss happened to favour (docs/measurements.md, "Training")."""
    schedule: str = "cosine"
    """``cosine`` decay over each stage, or ``step``: the tutorial's halving every ``step_epochs``."""
    step_epochs: int = 10
    loss: str = "distance"
    """``distance`` (each point's distance to its label: a few far-off labels pull less) or ``mse`` (its square):
    ``glare.training.model.LOSSES``."""
    batch_size: int = 64
    seed: int = 7
    min_coarse_confidence: float = 0.5
    start_from: Path | None = None
    """A trained model (model.keras or a stage's checkpoint) to go on from instead of new weights: with
    ``coarse.epochs=0``, a fine stage again on the same pre-training, or on new hand labels."""
    verbose: int = 2


@dataclass
class StageResult:
    name: str
    samples: int
    epochs_run: int
    best_val_loss: float
    history: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class TrainResult:
    model_path: Path
    stages: list[StageResult]
    val_pupil_error_px: float
    test_pupil_error_px: float
    curves_png: Path


def learning_rate_schedule(settings: TrainSettings, stage: StageSettings):
    if settings.schedule == "step":
        return lambda epoch: stage.learning_rate * 0.5 ** (epoch // settings.step_epochs)
    if settings.schedule == "cosine":
        return lambda epoch: stage.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / max(stage.epochs, 1)))
    raise ValueError(f"unknown schedule {settings.schedule!r}: use 'cosine' or 'step'")


def fit_stage(model: keras.Model, name: str, train: EyeSamples, val: EyeSamples, stage: StageSettings,
              settings: TrainSettings) -> StageResult:
    checkpoint = Path(settings.out) / "checkpoints" / f"{name}.keras"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    compile_model(model, stage.learning_rate, settings.loss)
    callbacks = keras_api(model).callbacks
    history = model.fit(
        make_pipeline(train.crops, train.targets(), settings.batch_size, settings.augment, settings.seed, shuffle=True),
        validation_data=make_pipeline(val.crops, val.targets(), 256, None, settings.seed, shuffle=False),
        epochs=stage.epochs,
        verbose=settings.verbose,
        callbacks=[
            callbacks.LearningRateScheduler(learning_rate_schedule(settings, stage)),
            callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss", save_best_only=True),
            callbacks.EarlyStopping(monitor="val_loss", patience=stage.patience, restore_best_weights=True),
            callbacks.CSVLogger(str(checkpoint.with_suffix(".csv"))),
        ],
    )
    values = {key: [float(v) for v in series] for key, series in history.history.items()}
    return StageResult(name, len(train), len(values["loss"]), float(min(values["val_loss"])), values)


def pupil_error(model: keras.Model, samples: EyeSamples) -> float:
    """Mean pupil error in crop pixels over hand-labelled samples."""
    if not len(samples):
        return float("nan")
    predicted = model.predict(samples.crops[..., None].astype(np.float32), batch_size=256, verbose=0)
    return float(np.linalg.norm(predicted[:, 4:6] - samples.points[:, 2], axis=1).mean())


def save_curves(stages: list[StageResult], path: Path) -> None:
    """Training and validation pupil error per epoch, stages side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(stages), figsize=(5 * len(stages), 3.6), dpi=110, squeeze=False)
    for axis, stage in zip(axes[0], stages):
        epochs = np.arange(1, stage.epochs_run + 1)
        axis.plot(epochs, stage.history["pupil_error_px"], label="train (augmented)")
        axis.plot(epochs, stage.history["val_pupil_error_px"], label="validation")
        axis.set_title(f"{stage.name}: {stage.samples} eyes")
        axis.set_xlabel("epoch")
        axis.set_ylabel("pupil error (crop px)")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _trained(path: Path, geometry: CropGeometry) -> keras.Model:
    """The model to go on from, refused where it is missing or its crops are not the dataset's."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist: start from a model.keras that 'glare-train train' wrote, or one "
                                "of its checkpoints/*.keras")
    model = load_trained_model(Path(path))
    _, height, width, _ = model.input_shape
    if (width, height) != (geometry.width, geometry.height):
        raise ValueError(f"{path} takes {width}x{height} crops, the dataset's are {geometry.width}x{geometry.height}: "
                         "start from a model trained on crops of this dataset's size, or prepare the dataset again")
    return model


def train(settings: TrainSettings) -> TrainResult:
    # Same seed, same data, same machine: same model. The weights' initial values, dropout, the
    # shuffle and the augmentation all follow the seed, and op determinism makes TensorFlow's
    # kernels (and tf.data) give the same sums in the same order.
    keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)

    samples = load_samples(settings.dataset)
    geometry = CropGeometry(width=samples.crops.shape[2], height=samples.crops.shape[1])
    fine_train, fine_val, fine_test = (select(samples, split, fine=True) for split in ("train", "val", "test"))
    coarse_train = select(samples, "train", fine=False, min_coarse_confidence=settings.min_coarse_confidence)
    coarse_val = select(samples, "val", fine=False, min_coarse_confidence=settings.min_coarse_confidence)
    if not len(fine_train) and not len(coarse_train):
        raise ValueError(f"{settings.dataset} has no training samples")
    pre_train, fine_tune = bool(len(coarse_train) and settings.coarse.epochs), bool(len(fine_train) and settings.fine.epochs)
    if not pre_train and not fine_tune:
        raise ValueError("nothing to train: give the coarse stage (mean-shift labels) or the fine stage (hand labels) "
                         "at least one epoch")

    model = build_model(geometry, settings.model) if settings.start_from is None else _trained(settings.start_from, geometry)
    stages = []
    if pre_train:
        # Pre-training is judged on hand labels where there are any: they are the truth.
        stages.append(fit_stage(model, "coarse", coarse_train, fine_val if len(fine_val) else coarse_val,
                                settings.coarse, settings))
    if fine_tune:
        stages.append(fit_stage(model, "fine", fine_train, fine_val if len(fine_val) else fine_train,
                                settings.fine, settings))

    model_path = out / "model.keras"
    model.save(model_path)
    curves = out / "training-curves.png"
    save_curves(stages, curves)
    result = TrainResult(model_path, stages, pupil_error(model, fine_val), pupil_error(model, fine_test), curves)
    summary = {
        "settings": json.loads(json.dumps(asdict(settings), default=str)),
        "geometry": asdict(geometry),
        "stages": [{k: v for k, v in asdict(stage).items() if k != "history"} for stage in stages],
        "val_pupil_error_px": result.val_pupil_error_px,
        "test_pupil_error_px": result.test_pupil_error_px,
    }
    (out / "training.json").write_text(json.dumps(summary, indent=1))
    return result
