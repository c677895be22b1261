"""reproduce: the bundled eye model from the shared data in one command, with its model card.

prepare (LFW with mean-shift labels, the web faces with their hand labels) -> train (coarse,
then fine) -> export (float TFLite, parity-checked) -> score on the held-out test
people with ``glare eval``'s code, on the photos and on grayscale copies -> MODEL_CARD.md.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from glare.eye_labels import read_eye_centres, split_of
from glare.evaluation import EvalReport, evaluate, format_table, save_cumulative_plot
from glare.pupils import LandmarkCentroidLocator
from glare.pupils.meanshift import MeanShiftLocator
from glare.pupils.model import ModelLocator, ModelLocatorSettings
from glare.training.data import load_samples, select
from glare.training.export import Parity, export
from glare.training.prepare import PrepareSettings, prepare
from glare.training.train import StageSettings, TrainSettings, train

COMMAND = "glare-train reproduce --install-to glare/assets"


def score(model_path: Path, labels: Path, limit: int, grayscale_copies: bool) -> EvalReport:
    faces = [face for face in read_eye_centres(labels) if split_of(face.image) == "test"]
    faces = faces[:limit] if limit else faces
    locators = [ModelLocator(ModelLocatorSettings(model_path=model_path)), MeanShiftLocator(), LandmarkCentroidLocator()]
    return evaluate(faces, locators, grayscale_copies=grayscale_copies)


def write_card(path: Path, dataset: Path, training: dict, parity: Parity, reports: dict[str, EvalReport],
               minutes: float, model_bytes: int) -> None:
    description = json.loads((dataset / "dataset.json").read_text())
    samples = "\n".join(f"| {key} | {count} |" for key, count in description["samples"].items())
    tables = "\n\n".join(f"**{name}**\n\n```\n{format_table(report)}\n```" for name, report in reports.items())
    stages = "\n".join(f"- {s['name']}: {s['samples']} eyes, {s['epochs_run']} epochs, best validation loss "
                       f"{s['best_val_loss']:.3f} px²" for s in training["stages"])
    parity_line = (f"- max {parity.max_abs_px:.4f} px, mean {parity.mean_abs_px:.4f} px over {parity.samples} "
                   "validation crops")
    path.write_text(f"""# glare eye model: model card

A compact separable CNN ({model_bytes / 1024:.0f} KiB as float TFLite) that takes an upright gray eye
crop of {training['geometry']['width']}x{training['geometry']['height']} pixels (glare.eyes.upright_crop) and returns
three points in crop pixels: the image-left eye corner, the image-right eye corner and the pupil
centre. glare's `model` locator runs it with LiteRT on both eyes and their mirror images in one call.

## Made by

```
{COMMAND}
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

MSE on the three points (pupil weighted 1, corners 0.25), Adam, cosine decay per stage, early
stopping on validation loss, augmentation that moves the points with the pixels (mirror,
rotation +-10 degrees, scale +-12%, shift +-3 px, brightness, contrast, blur, noise), seed {training['settings']['seed']}.

{stages}

Pupil error on hand-labelled eyes, crop pixels: validation {training['val_pupil_error_px']:.2f},
test {training['test_pupil_error_px']:.2f}.

## Export parity (TFLite against Keras)

{parity_line}

## Scores on held-out faces

Normalised error e (worse eye over inter-ocular distance, Jesorsky et al.); share of faces within
each threshold. Same faces, same dlib landmarks for every method.

{tables}

## Limits

- Trained on near-frontal photos; strong head turns and closed eyes lower its confidence, and
  the locator then hands the eye to mean-shift.
- No glasses-specific data; heavy reflections on lenses can pull the pupil.
""")


def reproduce(data: Path, work: Path, install_to: Path | None, quick: bool = False) -> Path:
    started = time.monotonic()
    labels = data / "eye-centres.txt"
    dataset = work / "eyes"
    limit = 400 if quick else 0
    print(f"1/4 prepare -> {dataset}")
    print(prepare(PrepareSettings(out=dataset, images=(data / "lfw",), labels=(labels,), limit=limit)).describe())

    print(f"2/4 train -> {work / 'model'}")
    settings = TrainSettings(dataset=dataset, out=work / "model", verbose=2)
    if quick:
        settings = replace(settings, coarse=StageSettings(1, 2e-3), fine=StageSettings(2, 1e-3))
    result = train(settings)
    training = json.loads((work / "model" / "training.json").read_text())

    print(f"3/4 export -> {work / 'export'}")
    calibration = select(load_samples(dataset), "val", fine=True).crops[:500]
    parity = export(result.model_path, work / "export", calibration)
    model_path = work / "export" / "eye_model.tflite"

    print("4/4 score on the held-out test split")
    reports = {
        "photos": score(model_path, labels, limit, grayscale_copies=False),
        "grayscale JPEG copies": score(model_path, labels, limit, grayscale_copies=True),
    }
    for name, report in reports.items():
        print(f"{name}:\n{format_table(report)}")
    save_cumulative_plot(reports["photos"], work / "export" / "eval-model.png", title="Pupil localisation, test split")
    card = work / "export" / "MODEL_CARD.md"
    write_card(card, dataset, training, parity, reports, (time.monotonic() - started) / 60, model_path.stat().st_size)
    if install_to:
        install_to.mkdir(parents=True, exist_ok=True)
        for name in ("eye_model.tflite", "eye_model.json", "MODEL_CARD.md"):
            shutil.copy2(work / "export" / name, install_to / name)
        print(f"installed the model and its card in {install_to}")
    return card
