"""The prepared eye dataset in memory: arrays per split and label kind, and the tf.data pipelines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glare.training.prepare import COARSE_SOURCE, iter_chunks


@dataclass
class EyeSamples:
    crops: np.ndarray
    """(N, H, W) uint8 gray upright eye crops."""
    points: np.ndarray
    """(N, 3, 2) float32 crop pixels: image-left corner, image-right corner, pupil."""
    point_weights: np.ndarray
    """(N, 3) float32: 1 where the point is labelled, 0 where it is unknown."""
    records: list[dict]

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, mask: np.ndarray) -> "EyeSamples":
        indices = np.flatnonzero(mask)
        return EyeSamples(self.crops[indices], self.points[indices], self.point_weights[indices],
                          [self.records[i] for i in indices])

    def targets(self) -> np.ndarray:
        """(N, 9) float32: the six coordinates, then the three point weights (what the loss reads)."""
        return np.concatenate([self.points.reshape(-1, 6), self.point_weights], axis=1).astype(np.float32)


def load_samples(dataset: Path) -> EyeSamples:
    """Every sample of a prepared dataset folder."""
    dataset = Path(dataset)
    if not (dataset / "dataset.json").is_file():
        raise FileNotFoundError(f"{dataset} is not a prepared dataset (no dataset.json): run 'glare-train prepare' first")
    crops, points, weights, records = [], [], [], []
    for _, chunk in iter_chunks(dataset):
        crops.append(chunk["crops"])
        points.append(chunk["points"])
        weights.append(chunk["point_weights"])
        records += json.loads(str(chunk["records"]))["records"]
    return EyeSamples(np.concatenate(crops), np.concatenate(points), np.concatenate(weights), records)


def select(samples: EyeSamples, split: str, fine: bool, min_coarse_confidence: float = 0.5) -> EyeSamples:
    """One split's fine (hand-labelled) or coarse (mean-shift) samples.

    Coarse labels are kept only where mean-shift was confident: a closed or shadowed eye's
    mean-shift answer is a guess, and teaching the model guesses costs more than it gives.
    """
    split_mask = np.array([r["split"] == split for r in samples.records], bool)
    coarse = np.array([r["source"] == COARSE_SOURCE for r in samples.records], bool)
    if fine:
        return samples.subset(split_mask & ~coarse)
    confident = np.array([r["coarse_confidence"] >= min_coarse_confidence for r in samples.records], bool)
    return samples.subset(split_mask & coarse & confident)
