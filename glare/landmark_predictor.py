"""dlib's landmark predictor, read from its file into arrays and fitted by compiled code: the points
dlib's own ``shape_predictor`` gives, in half its time.

Why: a dlib predictor (the 68-point model is 99 MB: 15 cascades of 500 regression trees, each tree
adding a leaf of 136 values to the shape) took 1.4-2.2 ms a fit inside the live loop, where the same
face fitted twice in a row takes 0.9: a webcam's face changes enough between frames that few of the
leaves it reads are still in the cache, and each tree's walk is four branches the CPU guesses half
wrong. Here the trees are walked without branches (the comparison's outcome is the step) and each
cascade's leaves are fetched once all its trees are walked, so the reads overlap: 0.9-1.0 ms a fit in
the loop, 0.5 run alone. The arithmetic is dlib's, in the same order and precision (float32 shapes
and leaves, the similarity transform in float64, dlib's rounding to pixels), so the points are equal
to dlib's own; a test checks that on real frames.

The predictor, as dlib defines it (``dlib/image_processing/shape_predictor.h``): a shape starts as
the mean shape, in coordinates where the face's box is the unit square. Each cascade maps the mean
shape onto the current one by a similarity transform, reads the gray value of its feature pixels
(each an offset from one of the shape's points, carried by that transform; a pixel outside the
image reads 0), and then each of its trees compares the differences of two feature pixels with
thresholds down to a leaf, which is added to the shape. The last shape is mapped onto the box and
rounded to whole pixels.

dlib's serialisation, as far as a shape predictor uses it: every number is a packed integer (a
control byte whose low four bits count the little-endian bytes that follow, 0x80 marking a negative
value); a float is two of them (mantissa, exponent: mantissa * 2**exponent); a matrix is its
negated row and column counts, then its values; a vector is its length, then its items. A predictor
is: version 1, the initial shape (a matrix), the forests (a vector of cascades, each a vector of
trees), then the feature anchors (a vector per cascade of point indices) and their offsets (a vector
per cascade of (x, y) floats). A tree is its splits (a vector of idx1, idx2, threshold) and its
leaves (a vector of matrices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_PREDICTOR_VERSION = 1
_BAD_OFFSET = -1


@dataclass(frozen=True)
class PredictorTrim:
    """Which trees of a predictor to use: all of the first ``whole_cascades`` cascades, then the first
    ``later_trees`` of each later one (boosting puts what matters first in each cascade)."""

    whole_cascades: int = 2
    later_trees: int = 300

    def __post_init__(self) -> None:
        if self.whole_cascades < 0 or self.later_trees < 1:
            raise ValueError(f"a trim keeps whole_cascades >= 0 and later_trees >= 1, got {self}")

    def trees_kept(self, cascade: int, trees: int) -> int:
        return trees if cascade < self.whole_cascades else min(trees, self.later_trees)


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
def _read_float(data: np.ndarray, pos: int) -> tuple[float, int]:
    mantissa, pos = _read_packed(data, pos)
    exponent, pos = _read_packed(data, pos)
    return np.float32(np.float64(mantissa) * 2.0 ** exponent), pos


@numba.njit(cache=True)
def _read_matrix_size(data: np.ndarray, pos: int) -> tuple[int, int]:
    rows, pos = _read_packed(data, pos)
    columns, pos = _read_packed(data, pos)
    return abs(rows * columns), pos


# What the layout walk found wrong, for the error message (0: nothing).
_LAYOUT_PROBLEMS = (
    "",
    "the file is cut short",
    "the version is not 1",
    "no cascades, or one with no trees",
    "trees of different depths, or a tree that is not whole",
    "leaves of a size other than the shape's",
    "cascades with different numbers of feature pixels",
)


@numba.njit(cache=True)
def _failed(layout: np.ndarray, problem: int, pos: int) -> np.ndarray:
    """``layout`` marked with ``problem``, or with a file cut short where the read ran past its end."""
    layout[0] = problem if pos != _BAD_OFFSET else 1
    return layout


@numba.njit(cache=True)
def _walk(data: np.ndarray, fill: bool, values: np.ndarray, trees: np.ndarray, splits: np.ndarray,
          thresholds: np.ndarray, leaves: np.ndarray, anchors: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Walks a predictor's bytes. Returns its layout: problem (an index into ``_LAYOUT_PROBLEMS``), shape
    values, cascades, most trees in a cascade, splits per tree, feature pixels per cascade, bytes read.
    With ``fill`` (arrays sized from a walk without) it also stores what it reads."""
    layout = np.zeros(7, np.int64)
    version, pos = _read_packed(data, 0)
    if pos == _BAD_OFFSET:
        layout[0] = 1
        return layout
    if version != _PREDICTOR_VERSION:
        layout[0] = 2
        return layout
    size, pos = _read_matrix_size(data, pos)
    layout[1] = size
    for index in range(size):
        value, pos = _read_float(data, pos)
        if pos == _BAD_OFFSET:
            break
        if fill:
            values[index] = value
    cascades, pos = _read_packed(data, pos)
    if cascades < 1:
        return _failed(layout, 3, pos)
    layout[2] = cascades
    layout[4] = -1
    for cascade in range(cascades):
        count, pos = _read_packed(data, pos)
        if count < 1:
            return _failed(layout, 3, pos)
        layout[3] = max(layout[3], count)
        if fill:
            trees[cascade] = count
        for tree in range(count):
            split_count, pos = _read_packed(data, pos)
            if layout[4] < 0:
                layout[4] = split_count
            if split_count != layout[4]:
                return _failed(layout, 4, pos)
            for split in range(split_count):
                first, pos = _read_packed(data, pos)
                second, pos = _read_packed(data, pos)
                threshold, pos = _read_float(data, pos)
                if pos == _BAD_OFFSET:
                    break
                if fill:
                    splits[cascade, tree, split, 0] = first
                    splits[cascade, tree, split, 1] = second
                    thresholds[cascade, tree, split] = threshold
            leaf_count, pos = _read_packed(data, pos)
            if leaf_count != split_count + 1:
                return _failed(layout, 4, pos)
            for leaf in range(leaf_count):
                leaf_size, pos = _read_matrix_size(data, pos)
                if leaf_size != size:
                    return _failed(layout, 5, pos)
                for index in range(size):
                    value, pos = _read_float(data, pos)
                    if pos == _BAD_OFFSET:
                        break
                    if fill:
                        leaves[cascade, tree, leaf, index] = value
            if pos == _BAD_OFFSET:
                layout[0] = 1
                return layout
    _, pos = _read_packed(data, pos)  # the anchors' cascade count
    for cascade in range(cascades):
        features, pos = _read_packed(data, pos)
        if cascade == 0:
            layout[5] = features
        if features != layout[5]:
            return _failed(layout, 6, pos)
        for feature in range(features):
            anchor, pos = _read_packed(data, pos)
            if pos == _BAD_OFFSET:
                break
            if fill:
                anchors[cascade, feature] = anchor
    _, pos = _read_packed(data, pos)  # the offsets' cascade count
    for cascade in range(cascades):
        features, pos = _read_packed(data, pos)
        if features != layout[5]:
            return _failed(layout, 6, pos)
        for feature in range(features):
            dx, pos = _read_float(data, pos)
            dy, pos = _read_float(data, pos)
            if pos == _BAD_OFFSET:
                break
            if fill:
                deltas[cascade, feature, 0] = dx
                deltas[cascade, feature, 1] = dy
    if pos == _BAD_OFFSET:
        layout[0] = 1
    layout[6] = pos
    return layout


def _not_a_predictor(path: Path, detail: str) -> ValueError:
    return ValueError(f"{path} is not a dlib shape predictor ({detail}): pass a .dat that glare-train landmarks "
                      "or dlib made, or, for dlib's own, reinstall face-recognition-models "
                      "(pip install --force-reinstall face-recognition-models)")


@dataclass(frozen=True)
class RegressionCascades:
    """A dlib shape predictor's arrays (see the module's notes)."""

    initial_shape: np.ndarray
    """(2 * points,) float32: the mean shape, x and y interleaved, the face's box being the unit square."""
    trees: np.ndarray
    """(cascades,) int64: how many trees of each cascade a fit walks."""
    splits: np.ndarray
    """(cascades, trees, splits, 2) int32: the two feature pixels each split compares."""
    thresholds: np.ndarray
    """(cascades, trees, splits) float32: a split goes left where the first's value minus the second's is above."""
    leaves: np.ndarray
    """(cascades, trees, splits + 1, 2 * points) float32: what each leaf adds to the shape."""
    anchors: np.ndarray
    """(cascades, features) int32: the shape point each feature pixel is placed from."""
    deltas: np.ndarray
    """(cascades, features, 2) float32: each feature pixel's offset from its point, in the mean shape."""

    @classmethod
    def read(cls, path: Path) -> RegressionCascades:
        data = np.fromfile(path, dtype=np.uint8)
        layout = _walk(data, False, np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros((0, 0, 0, 2), np.int32),
                       np.zeros((0, 0, 0), np.float32), np.zeros((0, 0, 0, 0), np.float32),
                       np.zeros((0, 0), np.int32), np.zeros((0, 0, 2), np.float32))
        problem, size, cascades, trees, splits, features, _ = (int(v) for v in layout)
        if problem:
            raise _not_a_predictor(path, _LAYOUT_PROBLEMS[problem])
        model = cls(np.zeros(size, np.float32), np.zeros(cascades, np.int64),
                    np.zeros((cascades, trees, splits, 2), np.int32), np.zeros((cascades, trees, splits), np.float32),
                    np.zeros((cascades, trees, splits + 1, size), np.float32), np.zeros((cascades, features), np.int32),
                    np.zeros((cascades, features, 2), np.float32))
        layout = _walk(data, True, model.initial_shape, model.trees, model.splits, model.thresholds, model.leaves,
                       model.anchors, model.deltas)
        if layout[6] != len(data):
            raise _not_a_predictor(path, f"{len(data) - int(layout[6])} bytes after its end")
        if size < 4 or size % 2:
            raise _not_a_predictor(path, f"a shape of {size} values is not two or more (x, y) points")
        # The fit reads through these indices unchecked: a damaged file must not reach it.
        if model.splits.size and not (0 <= model.splits.min() and model.splits.max() < features):
            raise _not_a_predictor(path, "a split names a feature pixel it does not have")
        if model.anchors.size and not (0 <= model.anchors.min() and model.anchors.max() < size // 2):
            raise _not_a_predictor(path, "a feature pixel is placed from a point the shape does not have")
        return model

    @property
    def points(self) -> int:
        return len(self.initial_shape) // 2

    def trimmed(self, trim: PredictorTrim) -> RegressionCascades:
        """The same model fitting with only the trees ``trim`` keeps (nothing copied)."""
        kept = np.array([trim.trees_kept(cascade, int(count)) for cascade, count in enumerate(self.trees)])
        return RegressionCascades(self.initial_shape, kept, self.splits, self.thresholds, self.leaves, self.anchors,
                                  self.deltas)


# OpenCV's BGR to gray in fixed point (``cv2.cvtColor(..., COLOR_BGR2GRAY)`` gives exactly these, a
# test checks it): a face's pixels are converted only where the predictor reads them, 7,500 a fit,
# where converting the face's surroundings cost 0.18 ms on a 1080p face.
_GRAY_SHIFT = 15
_GRAY_WEIGHTS_BGR = (3735, 19235, 9798)


# Inlined, and given the three values rather than the pixel: as a call on a view of the pixel it cost 10%
# of the fit (7,500 times a fit).
@numba.njit(inline="always")
def _gray_value(blue: int, green: int, red: int) -> int:
    blue_weight, green_weight, red_weight = _GRAY_WEIGHTS_BGR
    return (np.int64(blue) * blue_weight + np.int64(green) * green_weight + np.int64(red) * red_weight
            + (1 << (_GRAY_SHIFT - 1))) >> _GRAY_SHIFT


LEAF_PREFETCH_DISTANCE = 8
"""How many trees ahead of the sum a leaf is fetched: 8 and 16 were fastest here, 4 and 32 slower."""
_FLOATS_PER_LINE = 16
"""float32 values in a 64-byte cache line."""


@intrinsic
def _prefetch(typing_context, array, index):
    """Asks the processor to bring ``array``'s element ``index`` (of a C-contiguous 1-D array) into its caches,
    without waiting for it: LLVM's prefetch (a read, kept in all cache levels); a no-op where the processor
    has none. Numba has no prefetch of its own."""
    signature = types.void(array, index)

    def codegen(context, builder, signature, arguments):
        data = context.make_array(signature.args[0])(context, builder, arguments[0]).data
        address = builder.bitcast(builder.gep(data, [arguments[1]]), ir.IntType(8).as_pointer())
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [address.type],
            ir.FunctionType(ir.VoidType(), [address.type, ir.IntType(32), ir.IntType(32), ir.IntType(32)]))
        read, keep_everywhere, data_cache = (ir.Constant(ir.IntType(32), value) for value in (0, 3, 1))
        builder.call(function, [address, read, keep_everywhere, data_cache])
        return context.get_dummy_value()

    return signature, codegen


@numba.njit(inline="always")
def _prefetch_leaf(flat_leaves: np.ndarray, leaves_shape: tuple[int, int, int, int], cascade: int, tree: int,
                   leaf: int) -> None:
    """Every cache line of one leaf, ``flat_leaves`` being the C-contiguous leaves (as ``RegressionCascades``
    reads them) flattened. Inlined: as a call of its own, it cost more than it saved."""
    size = leaves_shape[3]
    start = ((cascade * leaves_shape[1] + tree) * leaves_shape[2] + leaf) * size
    for offset in range(0, size, _FLOATS_PER_LINE):
        _prefetch(flat_leaves, start + offset)


@numba.njit(cache=True)
def _fit(image: np.ndarray, left: int, top: int, right: int, bottom: int, initial_shape: np.ndarray,
         trees: np.ndarray, splits: np.ndarray, thresholds: np.ndarray, leaves: np.ndarray, anchors: np.ndarray,
         deltas: np.ndarray) -> np.ndarray:
    """dlib's ``shape_predictor::operator()`` on ``image`` (H x W x 1 gray, or H x W x 3 BGR read as OpenCV's
    gray) in the box (left, top, right, bottom), its points rounded to pixels as dlib rounds them."""
    points = initial_shape.shape[0] // 2
    split_count = splits.shape[2]
    shape = initial_shape.copy()
    feature_values = np.empty(anchors.shape[1], np.float32)
    leaf_chosen = np.empty(splits.shape[1], np.int64)
    flat_leaves = leaves.reshape(-1)
    height, width, channels = image.shape
    box_w, box_h = np.float64(right - left), np.float64(bottom - top)
    mean_x, mean_y = 0.0, 0.0
    for point in range(points):
        mean_x += initial_shape[2 * point]
        mean_y += initial_shape[2 * point + 1]
    mean_x, mean_y = mean_x / points, mean_y / points
    for cascade in range(len(trees)):
        # The similarity transform taking the mean shape onto the current one, least squares (dlib
        # solves it by Umeyama's SVD; for a rotation and scale this closed form is the same optimum).
        now_x, now_y = 0.0, 0.0
        for point in range(points):
            now_x += shape[2 * point]
            now_y += shape[2 * point + 1]
        now_x, now_y = now_x / points, now_y / points
        dot, cross, norm = 0.0, 0.0, 0.0
        for point in range(points):
            from_x, from_y = initial_shape[2 * point] - mean_x, initial_shape[2 * point + 1] - mean_y
            to_x, to_y = shape[2 * point] - now_x, shape[2 * point + 1] - now_y
            dot += from_x * to_x + from_y * to_y
            cross += from_x * to_y - from_y * to_x
            norm += from_x * from_x + from_y * from_y
        cos_scale, sin_scale = np.float32(dot / norm), np.float32(cross / norm)
        for feature in range(anchors.shape[1]):
            anchor = anchors[cascade, feature]
            dx, dy = deltas[cascade, feature, 0], deltas[cascade, feature, 1]
            x = (cos_scale * dx - sin_scale * dy) + shape[2 * anchor]
            y = (sin_scale * dx + cos_scale * dy) + shape[2 * anchor + 1]
            column = int(math.floor(left + np.float64(x) * box_w + 0.5))
            row = int(math.floor(top + np.float64(y) * box_h + 0.5))
            if not (0 <= column < width and 0 <= row < height):
                feature_values[feature] = 0.0
            elif channels == 1:
                feature_values[feature] = image[row, column, 0]
            else:
                feature_values[feature] = _gray_value(image[row, column, 0], image[row, column, 1], image[row, column, 2])
        for tree in range(trees[cascade]):
            node = 0
            while node < split_count:
                # Left (2n + 1) where the difference is above the threshold, else right: no branch to guess.
                above = (feature_values[splits[cascade, tree, node, 0]]
                         - feature_values[splits[cascade, tree, node, 1]] > thresholds[cascade, tree, node])
                node = 2 * node + 2 - np.int64(above)
            leaf_chosen[tree] = node - split_count
        # All the cascade's leaves known before the first is read: their fetches from memory overlap, and
        # each is asked for LEAF_PREFETCH_DISTANCE leaves ahead of its sum (the processor's own look-ahead
        # reaches fewer: a fit took 0.64-0.70 ms without, 0.60-0.66 with, the points the same).
        for tree in range(min(LEAF_PREFETCH_DISTANCE, trees[cascade])):
            _prefetch_leaf(flat_leaves, leaves.shape, cascade, tree, leaf_chosen[tree])
        for tree in range(trees[cascade]):
            if tree + LEAF_PREFETCH_DISTANCE < trees[cascade]:
                ahead = tree + LEAF_PREFETCH_DISTANCE
                _prefetch_leaf(flat_leaves, leaves.shape, cascade, ahead, leaf_chosen[ahead])
            leaf = leaves[cascade, tree, leaf_chosen[tree]]
            for index in range(2 * points):
                shape[index] += leaf[index]
    fitted = np.empty((points, 2))
    for point in range(points):
        fitted[point, 0] = math.floor(left + np.float64(shape[2 * point]) * box_w + 0.5)
        fitted[point, 1] = math.floor(top + np.float64(shape[2 * point + 1]) * box_h + 0.5)
    return fitted


class LandmarkPredictor:
    """A dlib shape predictor file, fitted as dlib fits it (see the module's notes)."""

    def __init__(self, path: str | Path, trim: PredictorTrim | None = None) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"landmark model {path} does not exist: pass a .dat from glare-train landmarks, "
                                    "or leave it out to use dlib's")
        whole = RegressionCascades.read(path)
        self.model = whole.trimmed(trim) if trim is not None else whole
        self.path = path
        self.trim = trim
        # Compiled once here (or loaded from Numba's cache), so no frame waits for it: for gray and BGR
        # images, whole and as views (a face's surroundings are a view of the frame).
        for image in (np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.uint8)):
            self(image, (0, 0, 7, 7))
            self(image[1:, 1:], (0, 0, 6, 6))

    @property
    def points(self) -> int:
        return self.model.points

    def __call__(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The shape's points, (points, 2) float64 whole pixels, for the face in ``box`` (left, top, right,
        bottom, whole pixels, as dlib's rectangle) of ``image`` (uint8, gray H x W, or BGR H x W x 3 read as
        its OpenCV gray; views are fine, nothing is copied)."""
        if image.ndim == 2:
            image = image[:, :, np.newaxis]
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (1, 3):
            raise ValueError(f"landmarks are fitted on a uint8 gray or BGR image, got {image.dtype} of shape "
                             f"{image.shape}")
        model = self.model
        return _fit(image, *(int(v) for v in box), model.initial_shape, model.trees, model.splits, model.thresholds,
                    model.leaves, model.anchors, model.deltas)
