"""The eye keypoint model: an upright gray eye crop in, three points (two corners, the pupil) out.

Two backbones share one head and one output convention (crop pixels, the order of
``training.prepare.POINT_NAMES``):

- ``compact``: a small separable CNN that trains from scratch on a CPU in minutes and runs in a
  fraction of a millisecond; the default, and the model glare ships.
- ``hub:PATH_OR_HANDLE``: a TF-Hub feature-vector SavedModel (images in [0, 1], RGB) as the
  tutorial used, fine-tuned through ``tensorflow_hub`` (``glare.training.hub_model``; a tf-keras
  model, since ``hub.KerasLayer`` is a Keras 2 layer). The gray crop is tiled to three channels
  and resized to its input size.

Each model standardises its own input, so the runtime feeds raw 0-255 pixels and brightness or
contrast changes (a dim webcam) matter less.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from glare.eyes import CropGeometry


@keras.saving.register_keras_serializable(package="glare")
class StandardiseImage(keras.layers.Layer):
    """Each image to zero mean and unit spread, whatever its exposure."""

    def call(self, images):
        mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
        spread = tf.math.reduce_std(images, axis=[1, 2, 3], keepdims=True)
        return (images - mean) / (spread + 4.0)


@keras.saving.register_keras_serializable(package="glare")
class ToCropPixels(keras.layers.Layer):
    """The head's old last layer (now a Rescaling in ``point_head``), kept so checkpoints saved with it still load."""

    def __init__(self, width: int, height: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.height = width, height

    def call(self, outputs):
        half = tf.constant([self.width / 2.0, self.height / 2.0] * 3)
        centre = tf.constant([(self.width - 1) / 2.0, (self.height - 1) / 2.0] * 3)
        return outputs * half + centre

    def get_config(self):
        return {**super().get_config(), "width": self.width, "height": self.height}


@dataclass(frozen=True)
class ModelSettings:
    backbone: str = "compact"
    """``compact``, or ``hub:`` followed by a SavedModel folder or a hub URL in ``TFHUB_CACHE_DIR``."""
    width_multiplier: float = 1.0
    """Scales the compact CNN's channel counts."""
    dense_units: int = 96
    dropout: float = 0.2
    hub_input_size: tuple[int, int] = (128, 80)
    """(width, height) the hub backbone's input is resized to."""
    head: str = "dense"
    """``dense``: the points regressed from the flattened features; ``heatmap``: a map per point, decoded from
    the compact CNN's coarser features back up, and the point its expected position (``SpatialExpectation``).
    Compact backbone only."""
    heatmap_stride: int = 2
    """Crop pixels per heatmap cell: 2 (maps at half the crop's resolution) or 4 (a quarter: one decoding
    step fewer, about half the stride-2 model's time in LiteRT)."""


def _separable_block(x, filters: int, name: str):
    x = keras.layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_sep")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _channels(count: int, settings: ModelSettings) -> int:
    """A layer's channel count scaled by ``width_multiplier``, 8 at least."""
    return max(8, int(round(count * settings.width_multiplier)))


def compact_feature_maps(x, settings: ModelSettings) -> list:
    """The compact CNN's feature maps at 1/2, 1/4 and 1/8 of the crop's size, finest first."""
    x = keras.layers.Conv2D(_channels(16, settings), 3, padding="same", use_bias=False, name="stem_conv")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = _separable_block(x, _channels(32, settings), "block2a")
    half = _separable_block(x, _channels(32, settings), "block2b")
    x = keras.layers.MaxPooling2D(name="pool2")(half)
    x = _separable_block(x, _channels(64, settings), "block3a")
    quarter = _separable_block(x, _channels(64, settings), "block3b")
    x = keras.layers.MaxPooling2D(name="pool3")(quarter)
    eighth = _separable_block(x, _channels(96, settings), "block4")
    return [half, quarter, eighth]


def compact_backbone(x, settings: ModelSettings):
    # Flatten, not global pooling: where a feature sits is the answer.
    return keras.layers.Flatten(name="flatten")(compact_feature_maps(x, settings)[-1])


@keras.saving.register_keras_serializable(package="glare")
class SpatialExpectation(keras.layers.Layer):
    """Heatmap logits (B, h, w, 3) -> each map's expected (x, y) in crop pixels, (B, 6) in point order.

    A softmax over each map, then the mean of the cells' centres under it (integral regression,
    Sun et al. 2018): the answer moves smoothly between cells, so a coarse map still gives sub-pixel
    points, and the loss on the points trains the maps directly."""

    def __init__(self, stride: int, **kwargs):
        super().__init__(**kwargs)
        self.stride = stride

    def call(self, logits):
        height, width, maps = logits.shape[1], logits.shape[2], logits.shape[3]
        flat = tf.reshape(tf.transpose(logits, [0, 3, 1, 2]), (-1, maps, height * width))
        weights = tf.nn.softmax(flat, axis=-1)
        # Cell i covers crop pixels stride*i .. stride*i + stride - 1 (pixel centres at whole numbers): its centre
        # lies (stride - 1) / 2 past its first pixel.
        xs = tf.tile(tf.range(width, dtype=tf.float32), [height]) * self.stride + (self.stride - 1) / 2.0
        ys = tf.repeat(tf.range(height, dtype=tf.float32), width) * self.stride + (self.stride - 1) / 2.0
        points = tf.stack([tf.reduce_sum(weights * xs, axis=-1), tf.reduce_sum(weights * ys, axis=-1)], axis=-1)
        return tf.reshape(points, (-1, maps * 2))

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


def heatmap_head(feature_maps: list, settings: ModelSettings):
    """The coarsest features carried back up to the heatmap's resolution, joined at each step by the finer
    maps (a small U-Net), then a map per point and its expected position."""
    if settings.heatmap_stride not in (2, 4):
        raise ValueError(f"heatmap stride {settings.heatmap_stride}: use 2 or 4 crop pixels per cell")
    half, quarter, eighth = feature_maps
    x = keras.layers.UpSampling2D(name="up_quarter")(eighth)
    x = keras.layers.Concatenate(name="join_quarter")([x, quarter])
    x = _separable_block(x, _channels(64, settings), "decode_quarter")
    if settings.heatmap_stride == 2:
        x = keras.layers.UpSampling2D(name="up_half")(x)
        x = keras.layers.Concatenate(name="join_half")([x, half])
        x = _separable_block(x, _channels(32, settings), "decode_half")
    x = keras.layers.SpatialDropout2D(settings.dropout, name="heatmap_dropout")(x)
    logits = keras.layers.Conv2D(3, 1, name="heatmap_logits")(x)
    return SpatialExpectation(settings.heatmap_stride, name="points")(logits)


def point_head(layers, features, geometry: CropGeometry, settings: ModelSettings):
    """Features -> six numbers around 0 -> crop pixels (a unit is half the crop's width or height from its
    centre). ``layers`` is Keras 3's or tf-keras's, so both backbones end alike."""
    x = layers.Dense(settings.dense_units, activation="relu", name="head_dense")(features)
    x = layers.Dropout(settings.dropout, name="head_dropout")(x)
    x = layers.Dense(6, name="head_points", kernel_initializer="zeros")(x)
    half = [geometry.width / 2.0, geometry.height / 2.0] * 3
    centre = [(geometry.width - 1) / 2.0, (geometry.height - 1) / 2.0] * 3
    return layers.Rescaling(scale=half, offset=centre, name="points")(x)


def build_model(geometry: CropGeometry = CropGeometry(), settings: ModelSettings = ModelSettings()) -> keras.Model:
    """Crops (B, H, W, 1) float32 in 0-255 -> points (B, 6) float32 in crop pixels."""
    if settings.backbone.startswith("hub:"):
        if settings.head != "dense":
            raise ValueError("a hub backbone gives a feature vector, with no maps to decode: use --head dense with it")
        from glare.training.hub_model import build_hub_model

        return build_hub_model(geometry, settings, point_head)
    if settings.backbone != "compact":
        raise ValueError(f"unknown backbone {settings.backbone!r}: use 'compact' or 'hub:PATH'")
    crops = keras.Input((geometry.height, geometry.width, 1), name="crops")
    standardised = StandardiseImage(name="standardise")(crops)
    if settings.head == "heatmap":
        points = heatmap_head(compact_feature_maps(standardised, settings), settings)
        return keras.Model(crops, points, name="glare_eye_compact_heatmap")
    if settings.head != "dense":
        raise ValueError(f"unknown head {settings.head!r}: use 'dense' or 'heatmap'")
    features = compact_backbone(standardised, settings)
    return keras.Model(crops, point_head(keras.layers, features, geometry, settings), name="glare_eye_compact")


def keras_api(model):
    """The Keras a model was built with: Keras 3 for the compact model, tf-keras for a hub backbone."""
    if isinstance(model, keras.Model):
        return keras
    import tf_keras

    return tf_keras


POINT_LOSS_WEIGHTS = (0.25, 0.25, 1.0)
"""The pupil is what glare needs; the corners are a side task that keeps the model honest."""


def _per_point(targets, predictions):
    """(true, predicted) points as (B, 3, 2), and each point's weight (``POINT_LOSS_WEIGHTS``, 0 where unlabelled)."""
    true_points = tf.reshape(targets[:, :6], (-1, 3, 2))
    predicted = tf.reshape(predictions, (-1, 3, 2))
    return true_points, predicted, targets[:, 6:] * tf.constant(POINT_LOSS_WEIGHTS)


def _weighted_mean(per_point, weights):
    return tf.reduce_sum(per_point * weights, axis=-1) / tf.maximum(tf.reduce_sum(weights, axis=-1), 1e-6)


def weighted_point_mse(targets, predictions):
    """Mean squared error per point (pixels²), weighted by point (``POINT_LOSS_WEIGHTS``) and by whether it is labelled."""
    true_points, predicted, weights = _per_point(targets, predictions)
    return _weighted_mean(tf.reduce_mean(tf.square(true_points - predicted), axis=-1), weights)


DISTANCE_SOFTENING_PX = 0.1
"""Rounds the distance's kink at zero (a gradient that fades over the last 0.1 px instead of flipping)."""


def weighted_point_distance(targets, predictions):
    """Distance per point (pixels), weighted as ``weighted_point_mse``.

    Why try it: the scores that matter count the eyes within a pixel or two, and squaring lets a few
    far-off labels (a squint, a label a pixel off on a small photo) pull every answer toward them,
    where a distance weighs each eye alike. With the fine stage run to the end of its decay it trained
    the bundled model (tenth pass, docs/measurements.md, "Training"): on the validation split, two seeds
    put 66.8% of faces within e <= 0.025 on average against ``mse``'s 64.55%, and 91.25% within 0.05
    against 91.75%, with a pupil error 3% lower. (With the fine stage stopped early, as in the ninth
    pass, whole runs lost within 0.05 to the same seeds' ``mse`` runs.)"""
    true_points, predicted, weights = _per_point(targets, predictions)
    squared = tf.reduce_sum(tf.square(true_points - predicted), axis=-1)
    return _weighted_mean(tf.sqrt(squared + DISTANCE_SOFTENING_PX ** 2), weights)


LOSSES = {"distance": weighted_point_distance, "mse": weighted_point_mse}
"""Training losses by name (``glare-train train --loss``; the default is ``TrainSettings.loss``)."""


def pupil_mae_px(targets, predictions):
    """Mean absolute error of the pupil's x and y, in crop pixels (the tutorial's MAE)."""
    return tf.reduce_mean(tf.abs(targets[:, 4:6] - predictions[:, 4:6]), axis=-1)


def pupil_error_px(targets, predictions):
    """Mean distance between the predicted and the true pupil, in crop pixels."""
    return tf.norm(targets[:, 4:6] - predictions[:, 4:6], axis=-1)


def compile_model(model, learning_rate: float, loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")
    model.compile(optimizer=keras_api(model).optimizers.Adam(learning_rate), loss=LOSSES[loss],
                  metrics=[pupil_mae_px, pupil_error_px])


def saved_by_keras_2(path: Path) -> bool:
    """Whether a .keras file was written by tf-keras (a hub model) rather than Keras 3."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("metadata.json"))["keras_version"].startswith("2.")


def load_trained_model(path: Path):
    """A model saved by ``train`` (model.keras or a checkpoint), ready for prediction.

    Unsafe mode only lets a hub backbone reload its SavedModel folder, which the training run
    itself was given; load model files you made, as with any pickle-like format.
    """
    if saved_by_keras_2(path):
        from glare.training.hub_model import load_hub_model

        return load_hub_model(path)
    return keras.models.load_model(path, compile=False, safe_mode=False,
                                   custom_objects={"StandardiseImage": StandardiseImage, "ToCropPixels": ToCropPixels,
                                                   "SpatialExpectation": SpatialExpectation})
