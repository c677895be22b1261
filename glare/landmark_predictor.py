"""dlib's 68-point landmark predictor, trimmed for speed: the same model with fewer trees in its later cascades.

Opt-in (``glare run --trimmed-landmarks``, ``TrackerSettings.landmark_trim``): on
woman_expressions.mp4 its fit jumped now and then where a hand crosses the face, and the tracker
then read the next frame as a cut and restarted the effect, which dlib's whole model never did.

Why: dlib's model (99 MB: 15 cascades of 500 regression trees, each tree adding a 136-value leaf to
the shape) spends most of a fit reading leaves from memory, and a webcam's face changes enough
between frames that few are still in the cache: 1.4 ms a fit in the loop, where the same face
fitted twice in a row takes 0.6. Boosting orders each cascade's trees by what they add, so the
first ones carry most of the fit. The first cascades move the mean shape onto the face and are kept
whole; each later one keeps its first 300 trees. On the validation photos the pupils then score as
with the whole model (66.3 / 90.3% within e <= 0.025 / 0.05 against 66.4 / 90.7%), where every
cascade cut to 200 trees lost 3 and 4.5 points, and the faces stage falls from 2.4 to 1.5 ms
(docs/measurements.md). Still photos (locate, eval, the labeller, training) always use the whole model.

The trimmed copy is made on the user's machine from the installed face-recognition-models file,
once, and cached (``GLARE_CACHE``, else ``$XDG_CACHE_HOME/glare``, else ``~/.cache/glare``).

dlib's serialisation, as far as a shape predictor uses it: every number is a packed integer (a
control byte whose low four bits count the little-endian bytes that follow, 0x80 marking a negative
value); a float is two of them (mantissa, exponent); a matrix is its negated row and column counts,
then its values; a vector is its length, then its items. A predictor is: version 1, the initial
shape (a matrix), the forests (a vector of cascades, each a vector of trees), then the feature
anchors and offsets. A tree is its splits (a vector of idx1, idx2, threshold) and its leaves (a
vector of matrices).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from glare.settings import cache_dir


@dataclass(frozen=True)
class PredictorTrim:
    """Which trees of a shape predictor to keep: all of the first ``whole_cascades`` cascades, then the
    first ``later_trees`` of each later one."""

    whole_cascades: int = 2
    later_trees: int = 300

    def __post_init__(self) -> None:
        if self.whole_cascades < 0 or self.later_trees < 1:
            raise ValueError(f"a trim keeps whole_cascades >= 0 and later_trees >= 1, got {self}")

    def trees_kept(self, cascade: int, trees: int) -> int:
        return trees if cascade < self.whole_cascades else min(trees, self.later_trees)

    @property
    def name(self) -> str:
        return f"{self.whole_cascades}-whole-{self.later_trees}-trees"


_PREDICTOR_VERSION = 1
_BAD_OFFSET = -1


@numba.njit(cache=True)
def _read_packed(data: np.ndarray, pos: int) -> tuple[int, int]:
    """The packed integer at ``pos`` and the offset after it; ``_BAD_OFFSET`` past the data's end."""
    if pos < 0 or pos >= len(data):
        return 0, _BAD_OFFSET
    control = data[pos]
    size = control & 0x0F
    if size > 8 or pos + size >= len(data):
        return 0, _BAD_OFFSET
    value = 0
    for index in range(size):
        value |= np.int64(data[pos + 1 + index]) << (8 * index)
    return (-value if control & 0x80 else value), pos + 1 + size


@numba.njit(cache=True)
def _skip_packed(data: np.ndarray, pos: int, count: int) -> int:
    for _ in range(count):
        if pos < 0 or pos >= len(data):
            return _BAD_OFFSET
        pos += 1 + (data[pos] & 0x0F)
    return pos if pos <= len(data) else _BAD_OFFSET


@numba.njit(cache=True)
def _skip_matrix(data: np.ndarray, pos: int) -> int:
    rows, pos = _read_packed(data, pos)
    columns, pos = _read_packed(data, pos)
    # Each float is two packed integers.
    return _skip_packed(data, pos, 2 * abs(rows * columns))


@numba.njit(cache=True)
def _tree_ends(data: np.ndarray, pos: int, trees: int) -> np.ndarray:
    """Where each of ``trees`` consecutive regression trees starting at ``pos`` ends."""
    ends = np.full(trees, _BAD_OFFSET, dtype=np.int64)
    for tree in range(trees):
        splits, pos = _read_packed(data, pos)
        pos = _skip_packed(data, pos, 4 * splits)  # idx1, idx2, and the threshold's two
        leaves, pos = _read_packed(data, pos)
        for _ in range(leaves):
            pos = _skip_matrix(data, pos)
        if pos == _BAD_OFFSET:
            return ends
        ends[tree] = pos
    return ends


def _packed(value: int) -> bytes:
    """A non-negative integer as dlib packs it."""
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "little")
    return bytes([len(body)]) + body


def _not_a_predictor(detail: str) -> ValueError:
    return ValueError(f"not a dlib shape predictor ({detail}): reinstall face-recognition-models "
                      "(pip install --force-reinstall face-recognition-models)")


@dataclass(frozen=True)
class _Cascade:
    first_tree: int
    """Offset of its first tree's bytes (just after its tree count)."""
    tree_ends: np.ndarray
    """Offset just after each of its trees."""


def _cascades(data: np.ndarray) -> tuple[int, list[_Cascade]]:
    """Where a predictor's cascades begin (the offset after their count) and where their trees lie."""
    version, pos = _read_packed(data, 0)
    if version != _PREDICTOR_VERSION:
        raise _not_a_predictor(f"version {version}, expected {_PREDICTOR_VERSION}")
    pos = _skip_matrix(data, pos)
    count, pos = _read_packed(data, pos)
    if pos == _BAD_OFFSET or count < 1:
        raise _not_a_predictor("no cascades")
    header_end, cascades = pos, []
    for index in range(count):
        trees, pos = _read_packed(data, pos)
        if pos == _BAD_OFFSET or trees < 1:
            raise _not_a_predictor(f"cascade {index} has no trees")
        ends = _tree_ends(data, pos, trees)
        if ends[-1] == _BAD_OFFSET:
            raise _not_a_predictor(f"cascade {index} ends early: the file is cut short")
        cascades.append(_Cascade(pos, ends))
        pos = int(ends[-1])
    return header_end, cascades


def cascade_sizes(serialised: bytes) -> list[int]:
    """How many trees each cascade of a dlib shape predictor (its file's bytes) holds."""
    _, cascades = _cascades(np.frombuffer(serialised, dtype=np.uint8))
    return [len(cascade.tree_ends) for cascade in cascades]


def trim_predictor(serialised: bytes, trim: PredictorTrim) -> bytes:
    """A dlib shape predictor (its file's bytes) with only the trees ``trim`` keeps; everything else
    byte for byte."""
    header_end, cascades = _cascades(np.frombuffer(serialised, dtype=np.uint8))
    pieces = [serialised[:header_end]]
    for index, cascade in enumerate(cascades):
        kept = trim.trees_kept(index, len(cascade.tree_ends))
        pieces += [_packed(kept), serialised[cascade.first_tree:int(cascade.tree_ends[kept - 1])]]
    # The feature anchors and offsets after the last cascade, unchanged.
    pieces.append(serialised[int(cascades[-1].tree_ends[-1]):])
    return b"".join(pieces)


def live_predictor_path(source: Path, trim: PredictorTrim, cache: Path | None = None) -> Path:
    """``source`` trimmed by ``trim``, made once and cached in ``cache``
    (default ``glare.settings.cache_dir()``), written whole or not at all. Where the cache cannot be
    written, ``source`` itself, with a one-line notice saying what to do."""
    cache = cache or cache_dir()
    stat = source.stat()
    # The installed file's size and time name the copy: a reinstall makes a new one.
    trimmed = cache / f"{source.stem}-{trim.name}-{stat.st_size}-{stat.st_mtime_ns}.dat"
    if trimmed.is_file():
        return trimmed
    partial: Path | None = None
    try:
        cache.mkdir(parents=True, exist_ok=True)
        print(f"glare: making a faster copy of the landmark model for live video in {cache} (once)",
              file=sys.stderr)
        content = trim_predictor(source.read_bytes(), trim)
        with tempfile.NamedTemporaryFile(dir=cache, suffix=".partial", delete=False) as file:
            partial = Path(file.name)
            file.write(content)
        os.replace(partial, trimmed)
    except OSError as error:
        if partial is not None:
            partial.unlink(missing_ok=True)
        print(f"glare: cannot store the faster landmark model ({error}); following faces with dlib's whole "
              f"model, about 1 ms slower a frame. Set GLARE_CACHE to a writable folder to fix it.", file=sys.stderr)
        return source
    return trimmed
