"""Images in the order where hand labels help most: those glare's model is least sure about first.

The model's doubt is 1 - its own confidence (``doubt_locator``: the live loop runs the model once an
eye; here each eye's mirror image is run too, since how far the two disagree says where the model is
unsure). It falls where the eye and its mirror image disagree, where the predicted eye corners stray
from dlib's, and where the eye is nearly shut. It is the model's confidence even where the live loop
would hand the eye to mean-shift: mean-shift's own confidence there called some of the model's worst
photos sure (an album cover whose pupils the model put 0.7 eye distances off, mean-shift sure of its
own answer). A face photo takes the doubt of its less sure eye; a photo where no face is found, or
that cannot be read, is the most in doubt of all (the model cannot help with it), and so comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from glare.pupils import PupilLocator

ORDERS = ("name", "uncertain")

Doubt = Callable[[Path], float]
"""Image path -> the model's doubt about it, 0 (sure) to 1."""


def doubt_locator() -> PupilLocator:
    """The model on each eye and its mirror image, its own answer and confidence kept however unsure."""
    from glare.pupils.model import ModelLocator, ModelLocatorSettings

    return ModelLocator(ModelLocatorSettings(mirror_test=True, min_confidence=0.0))


def _face_doubt() -> Doubt:
    from glare.labeler.predict import largest_face_reader

    read = largest_face_reader(doubt_locator())

    def doubt(path: Path) -> float:
        face = read(path)
        return 1.0 if face is None else 1.0 - min(eye.pupil.confidence for eye in face.eyes)

    return doubt


def _crop_doubt() -> Doubt:
    from glare.labeler.predict import nominal_eye_crop

    locator = doubt_locator()

    def doubt(path: Path) -> float:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            return 1.0
        [pupil] = locator.locate([nominal_eye_crop(image, locator.geometry)])
        return 1.0 - pupil.confidence

    return doubt


def make_doubt(point_set: str) -> Doubt:
    """The model's doubt about face photos (point set ``pupils``) or eye crops (``pupil``, ``eye``)."""
    return _face_doubt() if point_set == "pupils" else _crop_doubt()


def most_doubtful_first(images: Sequence[Path], doubt: Doubt, log: Callable[[str], None] = print) -> list[Path]:
    """``images`` with the model's least sure first; equal doubts keep their order."""
    doubts = []
    for index, path in enumerate(images):
        if index and index % 200 == 0:
            log(f"ordering by the model's doubt: {index}/{len(images)}")
        doubts.append(doubt(path))
    order = np.argsort(-np.asarray(doubts, dtype=np.float64), kind="stable")
    return [images[int(i)] for i in order]
