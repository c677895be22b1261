"""Augmentation that moves the points with the pixels: flip, rotation, scale, shift, brightness,
contrast, blur and noise, on single upright eye crops inside a tf.data pipeline.

Every random draw is stateless and keyed by a seed that travels with the example, so a training
run gives the same crops in the same order whatever the thread count or the timing of tf.data's
parallel map: the run is reproducible from its seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentSettings:
    flip_probability: float = 0.5
    max_rotation_deg: float = 10.0
    max_scale_change: float = 0.12
    max_shift_px: float = 3.0
    """The runtime's crops move by a pixel or two with landmark jitter; shifts teach the model not to care."""
    max_brightness: float = 40.0
    contrast_range: tuple[float, float] = (0.6, 1.4)
    blur_probability: float = 0.3
    max_blur_sigma: float = 1.3
    max_noise_std: float = 8.0


def _gaussian_kernel(sigma: tf.Tensor, radius: int = 3) -> tf.Tensor:
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel_1d = tf.exp(-0.5 * tf.square(x / sigma))
    kernel_1d /= tf.reduce_sum(kernel_1d)
    return tf.reshape(tf.tensordot(kernel_1d, kernel_1d, axes=0), (2 * radius + 1, 2 * radius + 1, 1, 1))


def flip_points(points: tf.Tensor, width: int) -> tf.Tensor:
    """Points (3, 2) of a crop mirrored left to right: x -> W - 1 - x, and the two corners swap."""
    mirrored = tf.stack([width - 1 - points[:, 0], points[:, 1]], axis=1)
    return tf.gather(mirrored, [1, 0, 2])


class _Draws:
    """Independent stateless draws from one example's seed, one key per draw."""

    def __init__(self, seed: tf.Tensor, count: int = 12):
        self.keys = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=count)
        self.used = 0

    def _next_key(self) -> tf.Tensor:
        key = self.keys[self.used]
        self.used += 1
        return key

    def uniform(self, shape=(), low: float = 0.0, high: float = 1.0) -> tf.Tensor:
        return tf.random.stateless_uniform(shape, self._next_key(), low, high)

    def normal(self, shape) -> tf.Tensor:
        return tf.random.stateless_normal(shape, self._next_key())


def augment_example(image: tf.Tensor, target: tf.Tensor, settings: AugmentSettings,
                    seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """One crop (H, W, 1) float32 in 0-255 and its target (9,): six coordinates, then three point weights.

    ``seed`` (2,) integers: the same seed gives the same augmentation.
    """
    height, width = image.shape[0], image.shape[1]
    points = tf.reshape(target[:6], (3, 2))
    weights = target[6:]
    draws = _Draws(seed)

    if draws.uniform() < settings.flip_probability:
        image = tf.reverse(image, axis=[1])
        points = flip_points(points, width)
        weights = tf.gather(weights, [1, 0, 2])

    angle = draws.uniform((), -1.0, 1.0) * settings.max_rotation_deg * math.pi / 180.0
    scale = 1.0 + draws.uniform((), -1.0, 1.0) * settings.max_scale_change
    shift = draws.uniform((2,), -1.0, 1.0) * settings.max_shift_px
    centre = tf.constant([(width - 1) / 2.0, (height - 1) / 2.0])
    cos, sin = scale * tf.cos(angle), scale * tf.sin(angle)
    # Forward map, crop -> augmented crop: p' = R S (p - c) + c + t.
    forward = tf.stack([[cos, -sin], [sin, cos]])
    points = tf.linalg.matvec(forward, points - centre) + centre + shift
    # The image op wants the inverse: for each output pixel, where to sample the input.
    inverse = tf.linalg.inv(forward)
    offset = centre - tf.linalg.matvec(inverse, centre + shift)
    transform = tf.concat([inverse[0], offset[:1], inverse[1], offset[1:], tf.zeros(2)], axis=0)
    image = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None], output_shape=tf.constant([height, width]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")[0]

    mean = tf.reduce_mean(image)
    contrast = draws.uniform((), *settings.contrast_range)
    image = (image - mean) * contrast + mean + draws.uniform((), -1.0, 1.0) * settings.max_brightness
    blur = draws.uniform() < settings.blur_probability
    sigma = draws.uniform((), 0.4, settings.max_blur_sigma)
    if blur:
        image = tf.nn.conv2d(image[None], _gaussian_kernel(sigma), strides=1, padding="SAME")[0]
    image += draws.normal(tf.shape(image)) * draws.uniform((), 0.0, settings.max_noise_std)
    image = tf.clip_by_value(image, 0.0, 255.0)
    return image, tf.concat([tf.reshape(points, (6,)), weights], axis=0)


def make_pipeline(crops, targets, batch_size: int, augment: AugmentSettings | None, seed: int, shuffle: bool) -> tf.data.Dataset:
    """Batches of (crops (B, H, W, 1) float32 0-255, targets (B, 9))."""
    dataset = tf.data.Dataset.from_tensor_slices((crops[..., None], targets))
    if shuffle:
        dataset = dataset.shuffle(len(crops), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(lambda image, target: (tf.cast(image, tf.float32), target), num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        # A new seed per example and epoch, from one stream that only ``seed`` decides.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            lambda example, example_seed: augment_example(*example, augment, example_seed),
            num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
