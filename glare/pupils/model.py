"""The trained eye model as a pupil locator, run with the LiteRT interpreter (no TensorFlow).

Every eye of every face goes through the model in one call. How far the predicted eye corners sit
from dlib's and how open the eye is say how sure the model is; an unsure answer, a missing model or
a missing LiteRT hands the eye to mean-shift instead.

The ``model-mirrored`` locator also runs each eye's mirror image (the model was trained on mirrored
eyes too, so the two should agree) and averages the two, their disagreement lowering the
confidence. The labelling tool uses it to rank photos by doubt. The live loop does not, measured
(docs/measurements.md, "Speed, eighth pass"): the mirror images cost 0.2-0.4 ms a face, and the
averaging is less accurate (``glare eval --methods model model-mirrored``: within e <= 0.025 /
0.05 on the validation split, 65.0 / 91.7% one pass against 63.6 / 90.1% mirrored with the bundled
model, and 65.7 / 91.5% against 65.7 / 89.8% with the one before it). The mirror pass
was kept before because its disagreement kept an iris off the closed eye a hand covers
(woman_expressions.mp4 frame 130). glare.sclera_check now does that: over both clips, one pass and
mirrored draw on the same frames.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glare.eyes import CropGeometry, EyeCrop
from glare.openness import pupil_visibility
from glare.pupils import IRIS_RADIUS_PER_EYE_WIDTH, CropPupil, Pupil, to_frame
from glare.pupils.meanshift import MeanShiftLocator, iris_radii

BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "assets" / "eye_model.tflite"


@dataclass(frozen=True)
class ModelLocatorSettings:
    model_path: Path = BUNDLED_MODEL
    mirror_test: bool = False
    """Also run each eye mirrored and average, the disagreement lowering the confidence (see above)."""
    disagreement_scale_px: float = 2.5
    """Mirror disagreement (crop px) at which confidence falls to 1/e."""
    corner_scale_px: float = 5.0
    """Mean distance of the predicted corners from dlib's (crop px) at which confidence falls to 1/e."""
    min_confidence: float = 0.3
    """Where the model is less sure than this of where the eye is (its mirror disagreement and corners,
    before the lids' share), mean-shift's answer is taken if it is surer."""
    threads: int = 1
    """One thread: for a model this small, more threads cost more in hand-offs than they save."""


def mirror_points(points: np.ndarray, width: int) -> np.ndarray:
    """Points (N, 3, 2) predicted on mirrored crops, mapped back: x -> W - 1 - x, corners swapped."""
    mirrored = points[:, [1, 0, 2]].copy()
    mirrored[..., 0] = width - 1 - mirrored[..., 0]
    return mirrored


class EyeModel:
    """The exported TFLite eye model: crops (N, H, W) uint8 -> points (N, 3, 2) in crop pixels."""

    def __init__(self, model_path: Path, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        model_path = Path(model_path)
        description_path = model_path.with_suffix(".json")
        if not description_path.is_file():
            raise FileNotFoundError(f"{description_path} is missing: export the model with 'glare-train export'")
        description = json.loads(description_path.read_text())
        self.geometry = CropGeometry(**description["geometry"])
        self.label_offset = np.array([description.get("label_offset", {}).get("pupil_x_px", 0.0), 0.0])
        """Added to the pupil (crop px): the labels' horizontal offset, which mirrored training averages
        out (``glare.training.export.LabelOffset``); 0 for a model exported without it."""
        self._interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0

    def predict(self, crops: np.ndarray) -> np.ndarray:
        if len(crops) != self._batch:
            self._interpreter.resize_tensor_input(self._input, [len(crops), self.geometry.height, self.geometry.width, 1])
            self._interpreter.allocate_tensors()
            self._batch = len(crops)
        self._interpreter.set_tensor(self._input, crops[..., None].astype(np.float32))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).reshape(-1, 3, 2)


def _load_model(settings: ModelLocatorSettings) -> EyeModel | None:
    """The eye model; where the bundled one cannot be loaded, None (mean-shift takes over, with a
    one-line notice). A model the user named that cannot be loaded is an error: scoring or running
    mean-shift under the model's name would hide it."""
    try:
        return EyeModel(settings.model_path, settings.threads)
    except ImportError:
        reason = "the LiteRT interpreter is not installed (pip install ai-edge-litert)"
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        reason = str(error) if Path(settings.model_path).exists() else f"{settings.model_path} does not exist"
    if Path(settings.model_path).resolve() != BUNDLED_MODEL:
        raise ValueError(f"eye model {settings.model_path} cannot be loaded ({reason}): pass an eye_model.tflite "
                         "made by glare-train export, or leave --model out to use the bundled one")
    print(f"glare: pupil model unavailable ({reason}); using mean-shift", file=sys.stderr)
    return None


class ModelLocator:
    """Pupils from the trained eye model, with mean-shift as the fallback."""

    def __init__(self, settings: ModelLocatorSettings = ModelLocatorSettings()):
        self.settings = settings
        self.name = "model-mirrored" if settings.mirror_test else "model"
        self.model = _load_model(settings)
        self.geometry = self.model.geometry if self.model else CropGeometry()
        self.fallback = MeanShiftLocator(geometry=self.geometry)

    @property
    def available(self) -> bool:
        return self.model is not None

    def locate(self, crops: Sequence[EyeCrop]) -> list[Pupil]:
        if self.model is None or not crops:
            return self.fallback.locate(crops)
        images = np.stack([crop.image for crop in crops])
        if self.settings.mirror_test:
            points = self.model.predict(np.concatenate([images, images[:, :, ::-1]]))
            direct, mirrored = points[: len(crops)], mirror_points(points[len(crops):], self.geometry.width)
            averaged = (direct + mirrored) / 2
            disagreement = np.linalg.norm(direct[:, 2] - mirrored[:, 2], axis=1)
        else:
            averaged = self.model.predict(images)
            disagreement = np.zeros(len(crops))
        return self._pupils(crops, averaged, disagreement)

    def _pupils(self, crops: Sequence[EyeCrop], points: np.ndarray, disagreement: np.ndarray) -> list[Pupil]:
        """Each eye's pupil from its points (N, 3, 2), the surer of the model's and mean-shift's where the
        model is unsure of the eye. The eyes go through each step together: one at a time, the steps' NumPy
        calls on a few numbers each cost 0.05 ms an eye."""
        settings = self.settings
        # How far the predicted corners sit from dlib's, in plain floats: on a face's two eyes the NumPy calls
        # took 24 us alone (more in the loop, after the landmark fit), these 5, the same numbers to 1e-16.
        certainties = []
        for crop, ((left_x, left_y), (right_x, right_y), _), apart in zip(crops, points.tolist(), disagreement.tolist()):
            (corner_x, corner_y), (other_x, other_y) = crop.contour[0].tolist(), crop.contour[3].tolist()
            corner_error = (math.hypot(left_x - corner_x, left_y - corner_y)
                            + math.hypot(right_x - other_x, right_y - other_y)) / 2.0
            certainties.append(math.exp(-((apart / settings.disagreement_scale_px) ** 2))
                               * math.exp(-((corner_error / settings.corner_scale_px) ** 2)))
        expected_radius = IRIS_RADIUS_PER_EYE_WIDTH * self.geometry.scale_reference
        centres = points[:, 2] + self.model.label_offset
        radii = iris_radii([crop.image for crop in crops], centres, expected_radius)
        pupils = []
        for crop, (x, y), radius, certainty in zip(crops, centres.tolist(), radii.tolist(), certainties):
            confidence = certainty * pupil_visibility(crop.eye.openness)
            # Only where the model is unsure of the eye itself: the lids' share scales mean-shift's
            # confidence as it does the model's, and on half-shut eyes mean-shift is the worse guess.
            if certainty < settings.min_confidence:
                surer = self.fallback.locate_in_crop(crop)
                if surer is not None and surer.confidence > confidence:
                    pupils.append(to_frame(crop, surer))
                    continue
            pupils.append(to_frame(crop, CropPupil((x, y), radius, confidence)))
        return pupils
