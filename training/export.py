"""export: the trained Keras model to TFLite (float32), checked against Keras.

The exported model takes a batch of crops (B, H, W, 1) float32 in 0-255 and returns (B, 6)
float32 crop pixels; the batch size is free, so the runtime resizes it to the number of eyes.
A JSON file beside the model tells the runtime the crop geometry and the point order.

Only float32 is exported: it is what the runtime loads. (An int8 variant was tried: a quarter of the
size, no faster on the 2-core laptops glare targets at this model's size, and up to a pixel off.)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from glare.eyes import CropGeometry
from glare.files import write_atomically
from glare.training.data import EyeSamples
from glare.training.model import load_trained_model
from glare.training.prepare import POINT_NAMES

@dataclass
class Parity:
    samples: int
    max_abs_px: float
    mean_abs_px: float


def convert(model: keras.Model) -> bytes:
    """The model as float32 TFLite flatbuffer bytes."""
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def run_tflite(model_bytes: bytes, crops: np.ndarray, batch: int = 512) -> np.ndarray:
    """(N, H, W) crops through a TFLite model with the LiteRT interpreter, ``batch`` crops a call
    (thousands at once would hold gigabytes of activations)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    answers = []
    for start in range(0, len(crops), batch):
        part = crops[start:start + batch]
        interpreter.resize_tensor_input(input_index, [len(part), *crops.shape[1:], 1])
        interpreter.allocate_tensors()
        interpreter.set_tensor(input_index, part[..., None].astype(np.float32))
        interpreter.invoke()
        answers.append(interpreter.get_tensor(output_index))
    return np.concatenate(answers)


def parity(model: keras.Model, model_bytes: bytes, crops: np.ndarray) -> Parity:
    """How far the TFLite model's points are from the Keras model's, in crop pixels."""
    expected = model.predict(crops[..., None].astype(np.float32), verbose=0)
    got = run_tflite(model_bytes, crops)
    difference = np.abs(expected - got)
    return Parity(len(crops), float(difference.max()), float(difference.mean()))


@dataclass
class LabelOffset:
    """How far right of the model's pupils the hand labels sit, on average: what mirrored training cannot learn.

    Training mirrors half the crops (x -> W - 1 - x), so a horizontal offset that the labels share
    (``eye-centres.txt``'s sit about 0.2 crop px right of the pupil that mean-shift, the landmarks'
    centroid and the model all find: docs/measurements.md, "The labels' horizontal offset") appears
    with opposite signs in the two copies and averages out of what the model learns. The runtime adds
    it back, so that pupils are reported in the labels' convention, as a vertical offset already is.
    """

    pupil_x_px: float
    """Crop pixels along the eye's axis (the median: a few far-off labels must not pull it)."""
    eyes: int
    """Hand-labelled training eyes it was measured on."""

    def describe(self) -> dict:
        return {**asdict(self), "measured": "median of hand label minus model pupil x, training split's hand-labelled eyes"}


def label_offset(model_bytes: bytes, samples: EyeSamples) -> LabelOffset:
    """The labels' horizontal offset from a TFLite model's pupils on hand-labelled eyes (the training
    split's: the offset is a property of the labels, and the other splits stay unread for scoring)."""
    labelled = samples.point_weights[:, 2] > 0
    if not labelled.any():
        raise ValueError("no hand-labelled pupils to measure the label offset on: prepare the dataset with --labels")
    predicted = run_tflite(model_bytes, samples.crops[labelled]).reshape(-1, 3, 2)
    residuals = samples.points[labelled, 2, 0] - predicted[:, 2, 0]
    return LabelOffset(float(np.median(residuals)), int(labelled.sum()))


def write_label_offset(model_path: Path, offset: LabelOffset) -> None:
    """Records the offset in an exported model's JSON (rewritten whole, never half-written)."""
    description_path = Path(model_path).with_suffix(".json")
    description = json.loads(description_path.read_text())
    description["label_offset"] = offset.describe()
    write_atomically(description_path, json.dumps(description, indent=1) + "\n")


PARITY_LIMIT_PX = 0.01
"""The largest mean difference from Keras the TFLite model may show: it must match to rounding."""


def export(model_path: Path, out_dir: Path, crops: np.ndarray, card: dict | None = None,
           offset_samples: EyeSamples | None = None) -> Parity:
    """Writes ``eye_model.tflite`` and its JSON; raises if the TFLite model fails parity. With
    ``offset_samples`` (the training split's hand-labelled eyes), where it holds any, the JSON carries the
    labels' offset."""
    model = load_trained_model(model_path)
    _, height, width, _ = model.input_shape
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_bytes = convert(model)
    check = parity(model, model_bytes, crops)
    if check.mean_abs_px > PARITY_LIMIT_PX:
        raise RuntimeError(f"the TFLite model differs from Keras by {check.mean_abs_px:.3f} px on average "
                           f"(limit {PARITY_LIMIT_PX}); not exported")
    description = {
        "geometry": asdict(CropGeometry(width=width, height=height)),
        "input": "crops (B, H, W, 1) float32, gray 0-255, upright eyes (glare.eyes.upright_crop)",
        "output": "points (B, 6) float32 crop pixels: x, y of each point in point_names",
        "point_names": list(POINT_NAMES),
        "parity": asdict(check),
        **({"label_offset": label_offset(model_bytes, offset_samples).describe()} if offset_samples else {}),
        **(card or {}),
    }
    write_atomically(out_dir / "eye_model.tflite", model_bytes)
    write_atomically(out_dir / "eye_model.json", json.dumps(description, indent=1) + "\n")
    return check
