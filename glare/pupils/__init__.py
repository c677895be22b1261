"""Pupils: locators behind one small interface.

A locator takes upright eye crops (both eyes of a face in one call) and returns, per eye, the
pupil centre in frame pixels, an iris radius in frame pixels and a confidence in [0, 1]. It
never raises on a strange crop: it answers "not found" (confidence 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from glare.eyes import CropGeometry, EyeCrop

IRIS_RADIUS_PER_EYE_WIDTH = 0.21
"""A typical iris radius over corner-to-corner eye width (iris ~11.7 mm, eye ~28 mm across)."""


@dataclass(frozen=True)
class Pupil:
    """A pupil in frame pixels."""

    centre: tuple[float, float]
    iris_radius_px: float
    confidence: float
    """0 means not found; ``centre`` then holds the eye's landmark centre as a best guess."""

    @property
    def found(self) -> bool:
        return self.confidence > 0.0


@dataclass(frozen=True)
class CropPupil:
    """A locator's answer in crop pixels, before it is mapped back to the frame."""

    centre: tuple[float, float]
    iris_radius: float
    confidence: float


class PupilLocator(Protocol):
    name: str
    geometry: CropGeometry

    def locate(self, crops: Sequence[EyeCrop]) -> list[Pupil]:
        """One pupil per crop, in frame pixels."""
        ...


def to_frame(crop: EyeCrop, found: CropPupil) -> Pupil:
    """A crop-pixel answer mapped into the frame the crop came from."""
    return Pupil(crop.point_to_frame(found.centre), float(found.iris_radius) * crop.frame_px_per_crop_px,
                 min(max(float(found.confidence), 0.0), 1.0))


def not_found(crop: EyeCrop) -> Pupil:
    centre = crop.eye.centre
    return Pupil((float(centre[0]), float(centre[1])), IRIS_RADIUS_PER_EYE_WIDTH * crop.eye.width_px, 0.0)


class LandmarkCentroidLocator:
    """The trivial baseline: the mean of the eye's six landmarks."""

    name = "centroid"

    def __init__(self, geometry: CropGeometry = CropGeometry()):
        self.geometry = geometry

    def locate(self, crops: Sequence[EyeCrop]) -> list[Pupil]:
        return [
            Pupil((float(c.eye.centre[0]), float(c.eye.centre[1])), IRIS_RADIUS_PER_EYE_WIDTH * c.eye.width_px, 0.5)
            for c in crops
        ]


def _make_model(model_path: Path | None, mirror_test: bool = False) -> PupilLocator:
    from glare.pupils.model import BUNDLED_MODEL, ModelLocator, ModelLocatorSettings

    return ModelLocator(ModelLocatorSettings(model_path=model_path or BUNDLED_MODEL, mirror_test=mirror_test))


def _make_mirrored_model(model_path: Path | None) -> PupilLocator:
    return _make_model(model_path, mirror_test=True)


def _make_meanshift(model_path: Path | None) -> PupilLocator:
    from glare.pupils.meanshift import MeanShiftLocator

    return MeanShiftLocator()


def _make_centroid(model_path: Path | None) -> PupilLocator:
    return LandmarkCentroidLocator()


LOCATORS: dict[str, Callable[[Path | None], PupilLocator]] = {
    "model": _make_model,
    "model-mirrored": _make_mirrored_model,
    "meanshift": _make_meanshift,
    "centroid": _make_centroid,
}
"""Every locator by name; the first is the default."""

DEFAULT_LOCATOR = "model"


def make_locator(name: str, model_path: Path | None = None) -> PupilLocator:
    """The locator called ``name`` (one of ``LOCATORS``); ``model_path`` replaces the bundled eye model."""
    try:
        factory = LOCATORS[name]
    except KeyError:
        raise ValueError(f"unknown pupil locator {name!r}: choose one of {', '.join(LOCATORS)}") from None
    return factory(model_path)
