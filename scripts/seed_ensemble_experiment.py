"""Would averaging models trained from different seeds place pupils better than one of them?

Each eye goes through every exported model given (one LiteRT call each) and the pupil is the
average of their answers; the confidence and the mean-shift fallback are the runtime's own
(``ModelLocator``). Scored against the first model alone, the way ``glare eval`` scores, on the
validation split by default (the test split is not for choosing).

    python scripts/seed_ensemble_experiment.py runs/reproduce/seed-7/export/eye_model.tflite \
        runs/reproduce/seed-8/export/eye_model.tflite

Each extra model is one more model call a frame: about what the mirror pass cost.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from glare.eye_labels import read_eye_centres, split_of
from glare.evaluation import evaluate, format_table
from glare.eyes import EyeCrop
from glare.pupils import Pupil
from glare.pupils.model import EyeModel, ModelLocator, ModelLocatorSettings
from glare.settings import shared_data_dir


class SeedEnsembleLocator(ModelLocator):
    """The runtime's model locator with every eye's answer averaged over several models."""

    def __init__(self, model_paths: Sequence[Path]):
        super().__init__(ModelLocatorSettings(model_path=model_paths[0]))
        self.others = [EyeModel(path) for path in model_paths[1:]]
        self.name = f"ensemble of {len(model_paths)}"

    def locate(self, crops: Sequence[EyeCrop]) -> list[Pupil]:
        images = np.stack([crop.image for crop in crops])
        points = sum((model.predict(images) for model in self.others), self.model.predict(images))
        return self._pupils(crops, points / (1 + len(self.others)), np.zeros(len(crops)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="exported eye_model.tflite files (at least two)")
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("--labels", type=Path, default=shared_data_dir() / "eye-centres.txt")
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("give at least two models to average")
    faces = [face for face in read_eye_centres(args.labels) if split_of(face.image) == args.split]
    single = ModelLocator(ModelLocatorSettings(model_path=args.models[0]))
    print(format_table(evaluate(faces, [single, SeedEnsembleLocator(args.models)])))


if __name__ == "__main__":
    main()
