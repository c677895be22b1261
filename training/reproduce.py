"""reproduce: the bundled eye model from the shared data in one command, with its model card.

prepare (LFW with mean-shift labels, the web faces with their hand labels) -> train (coarse,
then fine) once per seed -> export (float TFLite, parity-checked) -> score on the held-out test
people with ``glare eval``'s code, on the photos and on grayscale copies -> MODEL_CARD.md.

Training is deterministic (see ``train``): a seed gives the same model every time on the same
machine. Different seeds show the run-to-run spread, which the card reports; the run with the
best validation error is the one shipped, so the test split never chooses.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from glare.eye_labels import read_eye_centres, split_of
from glare.evaluation import EvalReport, evaluate, format_table, save_cumulative_plot
from glare.pupils import LandmarkCentroidLocator
from glare.pupils.meanshift import MeanShiftLocator
from glare.pupils.model import ModelLocator, ModelLocatorSettings
from glare.training.cli import DEFAULT_SEEDS
from glare.training.data import EyeSamples, load_samples, select
from glare.training.export import Parity, export
from glare.training.prepare import PrepareSettings, prepare
from glare.training.train import StageSettings, TrainSettings, train

def command_for(seeds: tuple[int, ...]) -> str:
    return f"glare-train reproduce --seeds {' '.join(map(str, seeds))} --install-to glare/assets"


@dataclass
class SeedRun:
    """One training run of the reproduction: its seed, where it went and how it scored."""

    seed: int
    folder: Path
    training: dict
    parity: Parity
    test_report: EvalReport
    """The model alone on the test photos: the spread across seeds."""

    @property
    def model_path(self) -> Path:
        return self.folder / "export" / "eye_model.tflite"

    @property
    def val_pupil_error_px(self) -> float:
        return self.training["val_pupil_error_px"]


def score(model_path: Path, labels: Path, limit: int, grayscale_copies: bool, baselines: bool = True) -> EvalReport:
    faces = [face for face in read_eye_centres(labels) if split_of(face.image) == "test"]
    faces = faces[:limit] if limit else faces
    locators = [ModelLocator(ModelLocatorSettings(model_path=model_path))]
    if baselines:
        locators += [MeanShiftLocator(), LandmarkCentroidLocator()]
    return evaluate(faces, locators, grayscale_copies=grayscale_copies)


def spread_table(runs: list[SeedRun], chosen: SeedRun) -> str:
    rows = [f"| {run.seed} | {run.val_pupil_error_px:.3f} | {run.training['test_pupil_error_px']:.3f} | "
            + " | ".join(f"{share:.1%}" for share in run.test_report.shares("model")[:2])
            + f" | {'shipped' if run is chosen else ''} |" for run in runs]
    shares = [[run.test_report.shares("model")[i] for run in runs] for i in range(2)]
    spread = ", ".join(f"e<={t}: {min(s):.1%} to {max(s):.1%}" for t, s in zip((0.025, 0.05), shares))
    return ("| seed | validation pupil error (crop px) | test pupil error (crop px) | test e<=0.025 | "
            "test e<=0.05 | |\n| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows)
            + f"\n\nSpread across seeds on the test photos: {spread}.")


LOSS_WORDS = {"distance": ("px", "The distance to the label"), "mse": ("px²", "The squared error")}
"""Each training loss's unit and its words in the card (a run from before ``loss`` was a setting used ``mse``)."""


def _patience_words(settings: dict) -> str:
    """When each stage stops, from a run's ``training.json`` settings: early, or at its last epoch."""
    words = []
    for name in ("coarse", "fine"):
        stage = settings[name]
        words.append(f"the {name} stage runs its {stage['epochs']} epochs" if stage["patience"] >= stage["epochs"] else
                     f"the {name} stage stops after {stage['patience']} epochs without a better one")
    return "; ".join(words)


def _offset_words(offset: dict | None) -> str:
    if offset is None:
        return "Not measured: the dataset had no hand-labelled training eyes, and the runtime adds no offset."
    return (f"The hand labels sit {offset['pupil_x_px']:+.3f} crop px right of the model's pupils (the median over "
            f"{offset['eyes']} hand-labelled\ntraining eyes). Mirrored training averages such an offset out, so the "
            "runtime adds it back (`label_offset`\nin eye_model.json; docs/measurements.md, \"The labels' horizontal "
            "offset\"). The scores below include it.")


def write_card(path: Path, dataset: Path, runs: list[SeedRun], chosen: SeedRun, reports: dict[str, EvalReport],
               minutes: float) -> None:
    training, parity, model_bytes = chosen.training, chosen.parity, chosen.model_path.stat().st_size
    description = json.loads((dataset / "dataset.json").read_text())
    samples = "\n".join(f"| {key} | {count} |" for key, count in description["samples"].items())
    tables = "\n\n".join(f"**{name}**\n\n```\n{format_table(report)}\n```" for name, report in reports.items())
    loss = training["settings"].get("loss", "mse")
    loss_unit, loss_words = LOSS_WORDS[loss]
    stages = "\n".join(f"- {s['name']}: {s['samples']} eyes, {s['epochs_run']} epochs, best validation loss "
                       f"{s['best_val_loss']:.3f} {loss_unit}" for s in training["stages"])
    parity_line = (f"- max {parity.max_abs_px:.4f} px, mean {parity.mean_abs_px:.4f} px over {parity.samples} "
                   "validation crops")
    offset = _offset_words(json.loads(chosen.model_path.with_suffix(".json").read_text()).get("label_offset"))
    path.write_text(f"""# glare eye model: model card

A compact separable CNN ({model_bytes / 1024:.0f} KiB as float TFLite) that takes an upright gray eye
crop of {training['geometry']['width']}x{training['geometry']['height']} pixels (glare.eyes.upright_crop) and returns
three points in crop pixels: the image-left eye corner, the image-right eye corner and the pupil
centre. glare's `model` locator runs it with LiteRT on every eye of a frame in one call.

## Made by

```
{command_for(tuple(run.seed for run in runs))}
```

on the 2-core CPU development machine in {minutes:.0f} minutes, from `../shared/data` (see its README
for sources and terms; none of it ships with glare).

## Data

- Coarse labels: LFW (grayscale, 250x250): dlib faces and landmarks, pupils from glare's mean-shift
  locator, kept where mean-shift was confident (>= 0.5). Used to pre-train.
- Fine labels: the hand-labelled eye centres of the web photos (`eye-centres.txt`; 400x400 and
  160x216 colour photos). Used to fine-tune.
- Split by person (LFW) or source photo (web photos) with glare.eye_labels.split_of: 70% train,
  15% validation (early stopping), 15% test (the scores below; never seen in training).

| split/source | eye samples |
| --- | --- |
{samples}

## Training

{loss_words} of the three points (pupil weighted 1, corners 0.25), Adam, cosine decay per stage, the
best epoch on validation loss kept ({_patience_words(training['settings'])}), augmentation that moves the points with the pixels (mirror,
rotation +-10 degrees, scale +-12%, shift +-3 px, brightness, contrast, blur, noise), seed {chosen.seed}.

{stages}

Pupil error on hand-labelled eyes, crop pixels: validation {training['val_pupil_error_px']:.2f},
test {training['test_pupil_error_px']:.2f}.

## Run-to-run spread

Training is deterministic: seeded initial weights, dropout, shuffle and stateless augmentation,
with TensorFlow's op determinism on, so a seed gives the same weights again on the same machine
(`tests/test_training.py::test_training_is_reproducible_from_its_seed`). Other machines, thread
counts or TensorFlow versions can sum in another order. One run per seed; the run with the lowest
validation error is shipped (the test split never chooses).

{spread_table(runs, chosen)}

## Export parity (TFLite against Keras)

{parity_line}

## The labels' horizontal offset

{offset}

## Scores on held-out faces

Normalised error e (worse eye over inter-ocular distance, Jesorsky et al.); share of faces within
each threshold. Same faces, same dlib landmarks for every method.

{tables}

## Limits

- Trained on near-frontal photos; strong head turns and closed eyes lower its confidence, and
  the locator then hands the eye to mean-shift.
- No glasses-specific data; heavy reflections on lenses can pull the pupil.
""")


def train_export_and_score(dataset: Path, folder: Path, seed: int, quick: bool, parity_crops: np.ndarray,
                           labelled: EyeSamples, labels: Path, limit: int) -> SeedRun:
    settings = TrainSettings(dataset=dataset, out=folder / "model", seed=seed, verbose=2)
    if quick:
        settings = replace(settings, coarse=StageSettings(1, 2e-3), fine=StageSettings(2, 1e-3))
    result = train(settings)
    training = json.loads((folder / "model" / "training.json").read_text())
    parity = export(result.model_path, folder / "export", parity_crops, offset_samples=labelled)
    report = score(folder / "export" / "eye_model.tflite", labels, limit, grayscale_copies=False, baselines=False)
    print(f"seed {seed}: validation pupil error {training['val_pupil_error_px']:.3f} crop px\n{format_table(report)}")
    return SeedRun(seed, folder, training, parity, report)


def reproduce(data: Path, work: Path, install_to: Path | None, quick: bool = False,
              seeds: tuple[int, ...] = DEFAULT_SEEDS) -> Path:
    if not seeds:
        raise ValueError("reproduce needs at least one seed (--seeds)")
    started = time.monotonic()
    labels = data / "eye-centres.txt"
    dataset = work / "eyes"
    limit = 400 if quick else 0
    print(f"1/3 prepare -> {dataset}")
    print(prepare(PrepareSettings(out=dataset, images=(data / "lfw",), labels=(labels,), limit=limit)).describe())

    # Every seed's export is checked against Keras on the same validation crops.
    samples = load_samples(dataset)
    parity_crops = select(samples, "val", fine=True).crops[:500]
    # The labels' horizontal offset is measured on the training split's hand labels (export, LabelOffset).
    labelled = select(samples, "train", fine=True)
    runs = []
    for seed in seeds:
        print(f"2/3 train, export and score, seed {seed} -> {work / f'seed-{seed}'}")
        runs.append(train_export_and_score(dataset, work / f"seed-{seed}", seed, quick, parity_crops, labelled,
                                           labels, limit))
    chosen = min(runs, key=lambda run: run.val_pupil_error_px)

    print(f"3/3 score seed {chosen.seed} (lowest validation error) with the baselines on the held-out test split")
    reports = {
        "photos": score(chosen.model_path, labels, limit, grayscale_copies=False),
        "grayscale JPEG copies": score(chosen.model_path, labels, limit, grayscale_copies=True),
    }
    for name, report in reports.items():
        print(f"{name}:\n{format_table(report)}")
    export_dir = chosen.model_path.parent
    save_cumulative_plot(reports["photos"], export_dir / "eval-model.png", title="Pupil localisation, test split")
    card = export_dir / "MODEL_CARD.md"
    write_card(card, dataset, runs, chosen, reports, (time.monotonic() - started) / 60)
    if install_to:
        install_to.mkdir(parents=True, exist_ok=True)
        for name in ("eye_model.tflite", "eye_model.json", "MODEL_CARD.md"):
            shutil.copy2(export_dir / name, install_to / name)
        print(f"installed the model and its card in {install_to}")
    return card
