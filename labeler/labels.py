"""The label file: one JSON document, written atomically, that the tool and training's prepare share.

Schema (``"format": "glare-labels"``, version 1)::

    {
      "format": "glare-labels",
      "version": 1,
      "point_set": "pupils",                  # one of POINT_SETS
      "images": {
        "faces/ann.jpg": {                    # path relative to the label file's folder
          "confirmed": true,
          "confirmed_at": "2026-11-24T10:02:11+00:00",
          "points": {
            "right_pupil": {"xy": [101.5, 88.0], "source": "hand", "time": "2026-11-24T10:02:09+00:00"},
            "left_pupil":  {"xy": [160.2, 87.1], "source": "model", "time": "2026-11-24T10:01:58+00:00"}
          }
        }
      }
    }

Points are (x, y) in the image's own pixels. ``source`` says where a point came from: ``hand``
(clicked or dragged) or the name of the locator that predicted it. Only ``confirmed`` images are
labels; the others hold work in progress. Writes go to a temporary file in the same folder that
then replaces the old one, so a crash or a kill leaves either the old file or the new one, never
half of one.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from glare.eye_labels import LabelFileError
from glare.files import write_atomically

FORMAT = "glare-labels"
VERSION = 1

POINT_SETS: dict[str, tuple[str, ...]] = {
    "pupils": ("right_pupil", "left_pupil"),
    "pupil": ("pupil",),
    "eye": ("pupil", "corner_image_left", "corner_image_right"),
}
"""Named point sets: ``pupils`` for face photos (the person's right eye is on the image's left),
``pupil`` and ``eye`` for upright eye crops."""


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class LabelledPoint:
    xy: tuple[float, float]
    source: str
    time: str


@dataclass
class ImageLabels:
    points: dict[str, LabelledPoint] = field(default_factory=dict)
    confirmed: bool = False
    confirmed_at: str | None = None


@dataclass
class LabelFile:
    """All labels of one file; ``images`` is keyed by the path relative to the file's folder."""

    path: Path
    point_set: str
    images: dict[str, ImageLabels] = field(default_factory=dict)

    @property
    def point_names(self) -> tuple[str, ...]:
        return POINT_SETS[self.point_set]

    def key_for(self, image: Path) -> str:
        """The key an image is stored under: its path relative to the label file's folder, with /."""
        return Path(os.path.relpath(Path(image).resolve(), self.path.resolve().parent)).as_posix()

    def image_path(self, key: str) -> Path:
        return self.path.parent / key

    def confirmed(self) -> dict[str, ImageLabels]:
        return {key: labels for key, labels in self.images.items() if labels.confirmed}

    def to_json(self) -> dict:
        images = {}
        for key, labels in sorted(self.images.items()):
            images[key] = {
                "confirmed": labels.confirmed,
                "confirmed_at": labels.confirmed_at,
                "points": {
                    name: {"xy": [round(p.xy[0], 2), round(p.xy[1], 2)], "source": p.source, "time": p.time}
                    for name, p in labels.points.items()
                },
            }
        return {"format": FORMAT, "version": VERSION, "point_set": self.point_set, "images": images}

    def save(self) -> None:
        write_atomically(self.path, json.dumps(self.to_json(), indent=1) + "\n")


def _parse_point(where: str, raw: object) -> LabelledPoint:
    if not isinstance(raw, dict) or not isinstance(raw.get("xy"), list) or len(raw["xy"]) != 2:
        raise LabelFileError(f"{where}: a point must be {{\"xy\": [x, y], \"source\": ..., \"time\": ...}}")
    try:
        xy = (float(raw["xy"][0]), float(raw["xy"][1]))
    except (TypeError, ValueError):
        raise LabelFileError(f"{where}: the point's xy must be two numbers") from None
    return LabelledPoint(xy, str(raw.get("source", "hand")), str(raw.get("time", "")))


def read_label_file(path: Path) -> LabelFile:
    """A label file from disk; anything that is not a valid glare label file raises LabelFileError."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise LabelFileError(
            f"{path} is not valid JSON ({error.msg}, line {error.lineno}): fix it or choose another label file; "
            "it will not be overwritten"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LabelFileError(f"{path} is not a glare label file (no \"format\": \"{FORMAT}\"); choose another label file")
    if document.get("version") != VERSION:
        raise LabelFileError(f"{path} has label format version {document.get('version')!r}; this tool reads version {VERSION}")
    point_set = document.get("point_set")
    if point_set not in POINT_SETS:
        raise LabelFileError(f"{path}: unknown point_set {point_set!r}; expected one of {', '.join(POINT_SETS)}")
    raw_images = document.get("images")
    if not isinstance(raw_images, dict):
        raise LabelFileError(f"{path}: \"images\" must be an object keyed by image path")
    labels = LabelFile(path, point_set)
    for key, raw in raw_images.items():
        if not isinstance(raw, dict) or not isinstance(raw.get("points", {}), dict):
            raise LabelFileError(f"{path}: the entry for {key!r} must be an object with \"points\"")
        points = {}
        for name, raw_point in raw.get("points", {}).items():
            if name not in POINT_SETS[point_set]:
                raise LabelFileError(f"{path}: {key!r} has point {name!r}, not part of point set {point_set!r}")
            points[name] = _parse_point(f"{path}: {key!r} {name}", raw_point)
        labels.images[key] = ImageLabels(points, bool(raw.get("confirmed", False)), raw.get("confirmed_at"))
    return labels


def open_label_file(path: Path, point_set: str | None = None) -> LabelFile:
    """The label file at ``path``, or a new empty one (not yet written) when none exists.

    An existing file keeps its own point set; asking for another one is an error rather than a
    silent mix of the two. A new file gets ``point_set`` (``pupils`` when None).
    """
    path = Path(path)
    if point_set is not None and point_set not in POINT_SETS:
        raise ValueError(f"unknown point set {point_set!r}: choose one of {', '.join(POINT_SETS)}")
    if not path.exists():
        if not path.parent.is_dir():
            raise LabelFileError(f"the folder of {path} does not exist: create it or choose another label file")
        return LabelFile(path, point_set or "pupils")
    labels = read_label_file(path)
    if point_set is not None and labels.point_set != point_set:
        raise LabelFileError(
            f"{path} holds point set {labels.point_set!r}, not {point_set!r}: pass --points {labels.point_set} "
            "or choose another label file"
        )
    return labels
