"""export: the trained Keras model to TFLite (float, and int8-quantised), checked against Keras.

The exported model takes a batch of crops (B, H, W, 1) float32 in 0-255 and returns (B, 6)
float32 crop pixels; the batch size is free, so the runtime resizes it to 2 (both eyes) or 4.
A JSON file beside each model tells the runtime the crop geometry and the point order.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from glare.eyes import CropGeometry
from training.model import load_trained_model
from training.prepare import POINT_NAMES

VARIANTS = ("float", "int8")


@dataclass
class Parity:
    variant: str
    samples: int
    max_abs_px: float
    mean_abs_px: float


def convert(model: keras.Model, variant: str, representative: np.ndarray | None = None) -> bytes:
    """TFLite flatbuffer bytes; ``int8`` quantises weights and activations using ``representative`` crops."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant == "int8":
        if representative is None or not len(representative):
            raise ValueError("int8 export needs representative crops to calibrate its ranges")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([crop[None, ..., None].astype(np.float32)] for crop in representative)
    elif variant != "float":
        raise ValueError(f"unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    return converter.convert()


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


def parity(model: keras.Model, model_bytes: bytes, variant: str, crops: np.ndarray) -> Parity:
    """How far the TFLite model's points are from the Keras model's, in crop pixels."""
    expected = model.predict(crops[..., None].astype(np.float32), verbose=0)
    got = run_tflite(model_bytes, crops)
    difference = np.abs(expected - got)
    return Parity(variant, len(crops), float(difference.max()), float(difference.mean()))


PARITY_LIMITS_PX = {"float": 0.01, "int8": 1.0}
"""The largest mean difference from Keras each variant may show; float must match to rounding."""


def export(model_path: Path, out_dir: Path, crops: np.ndarray, variants=VARIANTS, card: dict | None = None) -> list[Parity]:
    """Writes ``eye_model[.int8].tflite`` and its JSON for each variant; raises if a variant fails parity."""
    model = load_trained_model(model_path)
    _, height, width, _ = model.input_shape
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for variant in variants:
        model_bytes = convert(model, variant, representative=crops[:200])
        check = parity(model, model_bytes, variant, crops)
        if check.mean_abs_px > PARITY_LIMITS_PX[variant]:
            raise RuntimeError(f"{variant} TFLite model differs from Keras by {check.mean_abs_px:.3f} px on average "
                               f"(limit {PARITY_LIMITS_PX[variant]}); not exported")
        name = "eye_model" if variant == "float" else f"eye_model.{variant}"
        (out_dir / f"{name}.tflite").write_bytes(model_bytes)
        description = {
            "geometry": asdict(CropGeometry(width=width, height=height)),
            "input": "crops (B, H, W, 1) float32, gray 0-255, upright eyes (glare.eyes.upright_crop)",
            "output": "points (B, 6) float32 crop pixels: x, y of each point in point_names",
            "point_names": list(POINT_NAMES),
            "variant": variant,
            "parity": asdict(check),
            **(card or {}),
        }
        (out_dir / f"{name}.json").write_text(json.dumps(description, indent=1) + "\n")
        results.append(check)
    return results
