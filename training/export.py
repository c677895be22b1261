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


def run_tflite(model_bytes: bytes, crops: np.ndarray) -> np.ndarray:
    """(N, H, W) crops through a TFLite model with the LiteRT interpreter, in one batch."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes)
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, [len(crops), *crops.shape[1:], 1])
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, crops[..., None].astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def parity(model: keras.Model, model_bytes: bytes, crops: np.ndarray) -> Parity:
    """How far the TFLite model's points are from the Keras model's, in crop pixels."""
    expected = model.predict(crops[..., None].astype(np.float32), verbose=0)
    got = run_tflite(model_bytes, crops)
    difference = np.abs(expected - got)
    return Parity(len(crops), float(difference.max()), float(difference.mean()))


PARITY_LIMIT_PX = 0.01
"""The largest mean difference from Keras the TFLite model may show: it must match to rounding."""


def export(model_path: Path, out_dir: Path, crops: np.ndarray, card: dict | None = None) -> Parity:
    """Writes ``eye_model.tflite`` and its JSON; raises if the TFLite model fails parity."""
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
        **(card or {}),
    }
    write_atomically(out_dir / "eye_model.tflite", model_bytes)
    write_atomically(out_dir / "eye_model.json", json.dumps(description, indent=1) + "\n")
    return check
