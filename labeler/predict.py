"""Predictions that pre-fill the points, so the labeller only corrects them (coarse to fine).

Face photos (point set ``pupils``): dlib finds the largest face, glare's locator finds its pupils.
Eye crops (``pupil``, ``eye``): the crop is taken as upright, as glare cuts them; the model
predicts the pupil and corners directly, mean-shift searches an eye outline laid across the crop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from glare.eyes import CropGeometry, Eye, EyeCrop, rescale_points
from glare.labeler.session import Predictor

if TYPE_CHECKING:
    from glare.pupils import PupilLocator
    from glare.results import FaceResult

PREDICTORS = ("model", "meanshift", "none")


def largest_face_reader(locator: PupilLocator) -> Callable[[Path], FaceResult | None]:
    """Photo path -> the largest face in it with its pupils, or None where it cannot be read or shows none."""
    from glare.faces import FaceFinder
    from glare.pipeline import largest_face, locate_pupils

    finder = FaceFinder()

    def read(path: Path) -> FaceResult | None:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        largest = None if image is None else largest_face(finder.find(image))
        return None if largest is None else locate_pupils(image, [largest], locator)[0]

    return read


def _face_predictor(locator_name: str) -> Predictor:
    from glare.pupils import make_locator

    read = largest_face_reader(make_locator(locator_name))

    def predict(path: Path) -> dict[str, tuple[float, float]]:
        face = read(path)
        if face is None:
            return {}
        return {"right_pupil": face.right_eye.pupil.centre, "left_pupil": face.left_eye.pupil.centre}

    return predict


def nominal_eye_crop(image: np.ndarray, geometry: CropGeometry) -> EyeCrop:
    """An eye-crop image resized to ``geometry`` with the almond outline glare's crops put there."""
    resized = cv2.resize(image, (geometry.width, geometry.height), interpolation=cv2.INTER_AREA)
    half_width = geometry.scale_reference / 2
    half_height = 0.3 * half_width
    centre = np.array([(geometry.width - 1) / 2, (geometry.height - 1) / 2])
    angles = np.deg2rad([180, 240, 300, 0, 60, 120])
    contour = centre + np.stack([half_width * np.cos(angles), half_height * np.sin(angles)], axis=1)
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return EyeCrop(resized, Eye("right", contour), identity, identity, contour)


def _crop_predictor(locator_name: str) -> Predictor:
    from glare.pupils.meanshift import MeanShiftLocator

    model = None
    if locator_name == "model":
        from glare.pupils.model import ModelLocator

        model = ModelLocator().model  # None when the model cannot be loaded: mean-shift then
    locator = MeanShiftLocator(geometry=model.geometry) if model else MeanShiftLocator()
    geometry = locator.geometry

    def predict(path: Path) -> dict[str, tuple[float, float]]:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            return {}
        scale = np.array([image.shape[1] / geometry.width, image.shape[0] / geometry.height])
        crop = nominal_eye_crop(image, geometry)
        if model is not None:
            points = model.predict(crop.image[None])[0]
            names = ("corner_image_left", "corner_image_right", "pupil")
        else:
            found = locator.locate_in_crop(crop)
            if found is None:
                return {}
            points, names = np.array([found.centre]), ("pupil",)
        return {name: tuple(float(v) for v in rescale_points(point, scale)) for name, point in zip(names, points)}

    return predict


def make_predictor(name: str, point_set: str) -> Predictor | None:
    """The predictor for ``point_set`` images, or None for ``none``."""
    if name == "none":
        return None
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}: choose one of {', '.join(PREDICTORS)}")
    return _face_predictor(name) if point_set == "pupils" else _crop_predictor(name)
