"""``glare apply``: the effect on photo files, written at their exact size, format and channels.

Each photo is read as it is stored (gray, BGR or BGRA, 8-bit), the effect runs on its colour,
and the output keeps the input's size, format (by suffix) and channels, alpha included. An
existing file is never replaced without ``overwrite``, and an output is written whole or not at
all. A file that is not a readable 8-bit image is skipped and counted, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.capture import as_bgr, image_paths
from glare.engine import Engine
from glare.files import write_atomically

JPEG_QUALITY = 95


@dataclass
class ApplySummary:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    """(input, why) for each photo not written."""
    faces: int = 0

    def describe(self) -> str:
        lines = [f"{len(self.written)} photo(s) written, {self.faces} face(s) changed"]
        lines += [f"skipped {path}: {why}" for path, why in self.skipped]
        return "\n".join(lines)


def output_paths(inputs: Sequence[Path], out_dir: Path | None, out_file: Path | None) -> list[tuple[Path, Path]]:
    """(photo, where its output goes) for every photo given, folders expanded to the images inside."""
    photos = [photo for path in inputs for photo in (image_paths(path) if path.is_dir() else [path])]
    if out_file is not None:
        if len(photos) != 1:
            raise ValueError(f"-o names one output file but {len(photos)} photos were given: use --out DIR instead")
        return [(photos[0], out_file)]
    if out_dir is None:
        raise ValueError("say where the outputs go: --out DIR, or -o OUT.jpg for one photo")
    names = [photo.name for photo in photos]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"photos from different folders share the name(s) {', '.join(clashes)}: "
                         "apply them in separate runs, each with its own --out")
    return [(photo, out_dir / photo.name) for photo in photos]


def _encode(image: np.ndarray, suffix: str) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if suffix.lower() in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(suffix, image, params)
    if not ok:
        raise ValueError(f"OpenCV cannot write {suffix} files")
    return encoded.tobytes()


def apply_to_photo(engine: Engine, stored: np.ndarray) -> tuple[np.ndarray, int]:
    """The photo (as read with IMREAD_UNCHANGED) with the effect, in its own channels; and its faces changed."""
    output, result = engine.process_photo(as_bgr(stored))
    if stored.ndim == 2 or stored.shape[2] == 1:
        output = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).reshape(stored.shape)
    elif stored.shape[2] == 4:
        output = np.dstack([output, stored[:, :, 3]])
    changed = sum(any(eye.iris is not None and eye.iris.rendered for eye in face.eyes) for face in result.faces)
    return output, changed


def apply_to_files(engine: Engine, inputs: Sequence[Path], out_dir: Path | None = None, out_file: Path | None = None,
                   overwrite: bool = False, log: Callable[[str], None] = print) -> ApplySummary:
    """The effect (``engine``'s gaze settings) on each photo, written to ``out_dir`` under its own name, or to
    ``out_file``."""
    pairs = output_paths(inputs, out_dir, out_file)
    if not overwrite:
        existing = [str(out) for _, out in pairs if out.exists()]
        if existing:
            raise ValueError(f"{', '.join(existing[:3])}{' ...' if len(existing) > 3 else ''} already exist(s): "
                             "choose another output, or pass --overwrite to replace")
    summary = ApplySummary()
    for photo, out in pairs:
        stored = cv2.imread(str(photo), cv2.IMREAD_UNCHANGED)
        if stored is None or stored.dtype != np.uint8:
            why = "not an 8-bit image OpenCV can read" if photo.exists() else "no such file"
            summary.skipped.append((photo, why))
            log(f"skipped {photo}: {why}")
            continue
        output, changed = apply_to_photo(engine, stored)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out, _encode(output, out.suffix or photo.suffix))
        summary.written.append(out)
        summary.faces += changed
        log(f"{photo} -> {out} ({changed} face(s) changed)")
    return summary
