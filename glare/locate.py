"""Pupils in still images: one JSON-ready record per image, errors included, never an exception."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2

from glare.capture import image_paths
from glare.faces import FaceFinder
from glare.pipeline import analyse_photo
from glare.pupils import Pupil, PupilLocator


def _eye_record(pupil: Pupil) -> dict:
    return {
        "pupil": [round(pupil.centre[0], 2), round(pupil.centre[1], 2)],
        "iris_radius": round(pupil.iris_radius_px, 2),
        "confidence": round(pupil.confidence, 3),
    }


def locate_image(path: Path, finder: FaceFinder, locator: PupilLocator) -> dict:
    """``{"image", "faces": [{"box", "right_eye", "left_eye"}]}``, or ``{"image", "error"}`` for an unreadable file."""
    if not path.is_file():
        return {"image": str(path), "error": "no such file"}
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        return {"image": str(path), "error": "not an image OpenCV can read"}
    faces = [{"box": [round(v) for v in face.face.box], "right_eye": _eye_record(face.right_eye.pupil),
              "left_eye": _eye_record(face.left_eye.pupil)} for face in analyse_photo(image, finder, locator)]
    return {"image": str(path), "faces": faces}


def locate_all(inputs: Iterable[Path], finder: FaceFinder, locator: PupilLocator) -> Iterator[dict]:
    """Records for every image given, folders expanded to the images inside them."""
    for path in inputs:
        for image in image_paths(path) if path.is_dir() else [path]:
            yield locate_image(image, finder, locator)
