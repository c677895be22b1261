"""Coarse-to-fine, the go/no-go experiment: does a second stage that looks again, closer, around the
first stage's pupil find it better?

The refiner sees a square patch of the first stage's upright eye crop, zoomed ``--zoom`` times and
centred where the first stage put the pupil, and answers the pupil's offset from the patch centre.
It is trained on the hand-labelled training eyes with patches centred on the true pupil plus a
random offset drawn from the first stage's own validation error (x and y spread, times 1.2), and
scored on the validation eyes, centred on the first stage's answers.

    python scripts/refiner_experiment.py --dataset runs/reproduce/eyes \
        --model runs/reproduce/seed-7/model/model.keras --patch 32 --zoom 2

Prints the first stage's and the refined pupil error on the validation eyes (crop pixels).
"""

from __future__ import annotations

import argparse
import math

import keras
import numpy as np
import tensorflow as tf

from glare.training.data import EyeSamples, load_samples, select
from glare.training.model import StandardiseImage, load_trained_model


def zoomed_patch(image: tf.Tensor, centre: tf.Tensor, side: int, zoom: float) -> tf.Tensor:
    """A ``side``-pixel square of ``image`` around ``centre`` (crop pixels), ``zoom`` times enlarged."""
    half = (side - 1) / 2.0
    transform = tf.stack([1 / zoom, 0.0, centre[0] - half / zoom, 0.0, 1 / zoom, centre[1] - half / zoom, 0.0, 0.0])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None], output_shape=tf.constant([side, side]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")[0]


def refiner(side: int) -> keras.Model:
    patches = keras.Input((side, side, 1))
    x = StandardiseImage()(patches)
    for filters in (16, 32, 64):
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(x))
    return keras.Model(patches, keras.layers.Dense(2, kernel_initializer="zeros")(x))


def first_stage_pupils(model: keras.Model, samples: EyeSamples) -> np.ndarray:
    return model.predict(samples.crops[..., None].astype(np.float32), batch_size=256, verbose=0)[:, 4:6]


def describe(name: str, errors: np.ndarray) -> str:
    return (f"{name}: mean {errors.mean():.3f}, median {np.median(errors):.3f} crop px; within 1 px "
            f"{np.mean(errors <= 1):.1%}, within 2 px {np.mean(errors <= 2):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="a dataset from glare-train prepare")
    parser.add_argument("--model", required=True, help="the first stage: a model.keras from glare-train train")
    parser.add_argument("--patch", type=int, default=32, help="the patch's side in pixels")
    parser.add_argument("--zoom", type=float, default=2.0, help="patch pixels per crop pixel")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()

    samples = load_samples(args.dataset)
    train, val = select(samples, "train", fine=True), select(samples, "val", fine=True)
    first = load_trained_model(args.model)
    first_val = first_stage_pupils(first, val)
    first_errors = np.linalg.norm(first_val - val.points[:, 2], axis=1)
    spread = (np.std(first_val - val.points[:, 2], axis=0) * 1.2).astype(np.float32)
    side, zoom = args.patch, args.zoom

    def training_example(crop, pupil, seed):
        keys = tf.random.experimental.stateless_split(seed, 4)
        offset = tf.random.stateless_normal([2], keys[0]) * spread
        patch = zoomed_patch(tf.cast(crop, tf.float32), pupil + offset, side, zoom)
        patch = (patch * tf.random.stateless_uniform([], keys[1], 0.7, 1.3)
                 + tf.random.stateless_uniform([], keys[2], -30.0, 30.0)
                 + tf.random.stateless_normal(tf.shape(patch), keys[3]) * 3.0)
        return patch, -offset * zoom

    seeds = tf.data.Dataset.random(seed=args.seed, rerandomize_each_iteration=True).batch(2)
    training = tf.data.Dataset.from_tensor_slices((train.crops[..., None], train.points[:, 2].astype(np.float32)))
    training = (tf.data.Dataset.zip(training.shuffle(len(train), seed=args.seed), seeds)
                .map(lambda example, seed: training_example(*example, seed), num_parallel_calls=tf.data.AUTOTUNE)
                .batch(64).prefetch(4))
    validation = (tf.data.Dataset.from_tensor_slices((val.crops[..., None], first_val.astype(np.float32),
                                                      val.points[:, 2].astype(np.float32)))
                  .map(lambda crop, centre, pupil: (zoomed_patch(tf.cast(crop, tf.float32), centre, side, zoom),
                                                    (pupil - centre) * zoom))
                  .batch(256))

    model = refiner(side)
    model.compile(keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(training, validation_data=validation, epochs=args.epochs, verbose=2, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 0.5 * (1 + math.cos(math.pi * epoch / args.epochs))),
        keras.callbacks.EarlyStopping(patience=6, restore_best_weights=True)])
    refined = first_val + model.predict(validation, verbose=0) / zoom
    print(describe("first stage", first_errors))
    print(describe(f"refined ({side} px patch, zoom {zoom})", np.linalg.norm(refined - val.points[:, 2], axis=1)))


if __name__ == "__main__":
    main()
