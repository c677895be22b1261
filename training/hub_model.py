"""The ``hub:`` backbone: a TF Hub feature-vector SavedModel, fine-tuned through ``tensorflow_hub``.

``hub.KerasLayer`` is a Keras 2 layer, so a model with a hub backbone is a tf-keras model: Keras 3
cannot hold the layer. The compact model, which glare ships, stays Keras 3. Both take the same crops,
end in the same head (``glare.training.model.point_head``), train through the same loop and export
to the same TFLite contract.

A handle is a local SavedModel folder, or a hub URL whose download is already in
``TFHUB_CACHE_DIR`` (tensorflow_hub names each entry by the SHA-1 of its handle), so training
works offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import tensorflow_hub as hub
import tf_keras

from glare.eyes import CropGeometry


def resolve_handle(handle: str) -> str:
    """The SavedModel folder behind a handle: a local folder as is, a hub URL through tensorflow_hub's cache."""
    if Path(handle).is_dir():
        return handle
    if "://" not in handle:
        raise ValueError(f"hub backbone {handle!r} is not a SavedModel folder; pass the folder of a TF2 feature-vector "
                         "SavedModel, or a hub URL that is in TFHUB_CACHE_DIR")
    try:
        return hub.resolve(handle)
    except Exception as error:  # tensorflow_hub raises whatever the download raised
        raise ValueError(f"hub backbone {handle!r} could not be fetched ({error}); with no internet, download it "
                         "elsewhere and pass its folder, or copy it into TFHUB_CACHE_DIR") from error


def build_hub_model(geometry: CropGeometry, settings, head: Callable) -> tf_keras.Model:
    """Gray crops (B, H, W, 1) in 0-255 -> RGB in [0, 1] at the hub's input size -> features -> points."""
    path = resolve_handle(settings.backbone.removeprefix("hub:"))
    width, height = settings.hub_input_size
    crops = tf_keras.Input((geometry.height, geometry.width, 1), name="crops")
    x = tf_keras.layers.Resizing(height, width, name="hub_resize")(crops)
    x = tf_keras.layers.Concatenate(name="hub_rgb")([x, x, x])
    x = tf_keras.layers.Rescaling(1.0 / 255.0, name="hub_scale")(x)
    features_layer = hub.KerasLayer(path, trainable=True, name="hub")
    features = features_layer(x)
    if not features_layer.trainable_weights:
        raise ValueError(f"hub model {path} lists no trainable_variables, so fine-tuning cannot move it: use a TF2 "
                         "reusable SavedModel (a hub feature vector saved with its variables)")
    if features.shape.rank != 2:
        raise ValueError(f"hub model {path} returns shape {features.shape}; it must return one feature vector per image")
    return tf_keras.Model(crops, head(tf_keras.layers, features, geometry, settings), name="glare_eye_hub")


def load_hub_model(path: Path) -> tf_keras.Model:
    """A hub model saved by ``train``: its SavedModel folder must still be where training found it."""
    return tf_keras.models.load_model(path, compile=False, safe_mode=False, custom_objects={"KerasLayer": hub.KerasLayer})
