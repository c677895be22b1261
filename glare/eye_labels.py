"""Hand-labelled eye centres (the ``eye-centres.txt`` format) and a stable train/val/test split.

One face a line: ``PATH LEFT RIGHT TOP BOTTOM x1 y1 x2 y2 x3 y3 x4 y4 x5 y5``, PATH relative
to the file's folder, (x1, y1) the eye on the image's left (the person's right eye), (x2, y2)
the other eye; the nose and mouth points that follow are not used here.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

Split = Literal["train", "val", "test"]
SPLIT_SHARES = {"train": 0.70, "val": 0.15, "test": 0.15}


@dataclass(frozen=True)
class LabelledFace:
    image: Path
    box: tuple[float, float, float, float]
    """left, top, right, bottom."""
    right_eye: tuple[float, float]
    """The person's right eye (the image's left)."""
    left_eye: tuple[float, float]

    @property
    def interocular_px(self) -> float:
        return float(np.hypot(self.right_eye[0] - self.left_eye[0], self.right_eye[1] - self.left_eye[1]))


def normalised_error(face: LabelledFace, right: Sequence[float], left: Sequence[float]) -> float:
    """Jesorsky et al.'s error: the worse eye's distance from its label over the labelled inter-ocular
    distance (``right`` is the person's right eye, on the image's left)."""
    right_error = np.hypot(right[0] - face.right_eye[0], right[1] - face.right_eye[1])
    left_error = np.hypot(left[0] - face.left_eye[0], left[1] - face.left_eye[1])
    return float(max(right_error, left_error) / face.interocular_px)


class LabelFileError(ValueError):
    pass


def read_eye_centres(path: Path) -> list[LabelledFace]:
    """Every face in an ``eye-centres.txt`` file; a malformed line is an error naming the line."""
    path = Path(path)
    if not path.is_file():
        raise LabelFileError(f"label file {path} does not exist: pass the eye-centres.txt that lies beside the images")
    faces = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            left, right, top, bottom, rx, ry, lx, ly = (float(v) for v in fields[1:9])
        except ValueError:
            raise LabelFileError(
                f"{path}:{number}: expected 'PATH LEFT RIGHT TOP BOTTOM x1 y1 x2 y2 ...', got {line!r}"
            ) from None
        faces.append(LabelledFace(path.parent / fields[0], (left, top, right, bottom), (rx, ry), (lx, ly)))
    return faces


def group_key(image: Path) -> str:
    """Images of one source photo or person share a key, so a split never divides them.

    LFW names images ``Person_Name_0001.jpg`` (the key is the person). The web faces are named
    ``PHOTO_FACE_N.jpg`` (the faces of one group photo share the key PHOTO) or
    ``_ANGLE_ID_N.jpg`` (the key drops the trailing number).
    """
    stem = Path(image).stem
    group_photo = re.fullmatch(r"(\d+)_\d+_\d+", stem)
    if group_photo:
        return group_photo.group(1)
    return re.sub(r"_\d+$", "", stem)


def group_bucket(image: Path) -> int:
    """A stable bucket 0-99 for an image's group (a checksum of its key: Python's hash changes per run)."""
    return zlib.crc32(group_key(image).encode()) % 100


def split_of(image: Path) -> Split:
    """The split an image belongs to, fixed by its group's bucket (70/15/15)."""
    bucket = group_bucket(image)
    if bucket < 100 * SPLIT_SHARES["train"]:
        return "train"
    if bucket < 100 * (SPLIT_SHARES["train"] + SPLIT_SHARES["val"]):
        return "val"
    return "test"
