"""The renderer's per-pixel work: loops over an eye's box, compiled by Numba.

An eye's box holds a few hundred to a few thousand pixels. Written as NumPy array steps, the
redraw was about two hundred calls on arrays that small, and the calls' own overhead, not their
arithmetic, made the render cost more than half of all the analysis. Here each layer is one loop
over the box's pixels, compiled once and cached on disk beside this module, so a redraw costs
about what its arithmetic costs. What each step does, and why, is told in ``glare.render``.

Everything is in the pixels of one eye's box (x to the right from its first column, y down from
its first row, at pixel centres); colours are BGR.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from glare.eyes import EyeNumbers, eye_coordinates, lid_curves, opening_depth

LUMA = (0.114, 0.587, 0.299)
"""The weights of B, G and R in a pixel's brightness."""

LIMBUS_SPREAD = 1.1
"""The drawn iris reaches this far past the limbus radius (as a factor, plus half a pixel): the
limbal ring's blurred outer edge belongs to the iris, not the sclera."""
LID_SHADE_BAND_T = 0.2
LID_SHADE_BANDS = 2
"""The shade under the upper lid is measured in this many bands of LID_SHADE_BAND_T (of the opening's height)."""
LID_SHADE_QUANTILE = 0.75
"""A band's brightness is this quantile of its pixels': the sclera in it, past the lashes that overhang it."""
LID_SHADE_DARKEST = 0.6
"""The fill is never darkened below this share of the field."""
LID_SHADE_MIN_PIXELS = 4
"""A band with fewer pixels than this in sight says nothing (no shade)."""
HOLE_FEATHER_PX = 1.5
"""Over how many pixels the redrawn sclera blends into the real one at the hole's edge."""
LID_MARGIN_PX = 1.0
"""Iris pixels closer than this to a lid line are lash and lid shadow, not iris: they are completed."""
SCLERA_LID_MARGIN_PX = 1.5
"""Sclera samples keep this far from the lid lines, where lashes darken them."""
MIN_SCLERA_SAMPLES = 8
"""An eye with fewer sclera pixels in sight than this cannot be redrawn (its face is left alone)."""
MIN_IRIS_CONTRAST = 20.0
"""An eye whose iris (the mean of what shows within IRIS_MIDDLE of its radius) is not at least this many grey
levels darker than the sclera fitted beside it shows no iris to move, and its face is left alone. On web
photos such eyes were painted faces, sketches, blurred or dark faces and eyes behind glasses, and the
redraw smeared them (5% of the eyes drawn on 300 validation photos read under 7, some under 0); the
clips' drawn eyes read 33 and over (1% under 51), her light grey irises and his dark brown ones alike."""
IRIS_MIDDLE = 0.8
"""The share of the iris's radius that ``MIN_IRIS_CONTRAST`` reads: past it lies the limbus's blur."""
SCLERA_RIDGE = 2.0
"""Pulls the sclera field toward a flat colour where the visible sclera says little (one side only)."""
MIN_FIT_SAMPLES = 6
"""A trim of the sclera samples that would leave fewer than this is not made."""
CATCHLIGHT_KEEP = 0.7
"""The catchlight may sit up to this share of the iris radius from the moved iris's centre."""
CATCHLIGHT_REACH = 0.65
"""Catchlights are looked for this far from the old iris's centre (a share of its radius): farther out
a bright patch can be sclera lit past a limbus that the radius overshot, and pulled onto the moved
iris it drew a white streak across it."""
HOLE_EDGE_STRIDE = 8
"""Half-pixel steps ``hole_edges`` takes at a stride while the line is well inside the hole."""
EDGE_SHADE = 0.9
"""Beside the hole, sclera at least this share of the field's brightness (or as bright as the darkest
sclera the fit kept) is shade, carried into the fill; darker is a lash, a corner's dark or the iris's
rim, which smeared across the fill. Higher shares carried more of the lids' shade and left the small
eyes of man_webcam.mp4 a grey fill (ghost median 0.14 at 0.75, 0.09 here)."""
EDGE_REFERENCE_RADIUS_PX = 9.0
"""The iris radius the pixel widths above were set on (a face about 120 px wide, a 640x360 webcam's).
On larger eyes every edge in the image, lids, limbus and catchlights, is blurred over more pixels,
and the widths grow in proportion: at 1080p a one-pixel edge on an iris three times as large read as
a cut-out disc."""

# Compiled on first use and cached beside this module; without the GIL, so that several faces
# can be drawn on several threads.
_COMPILE = {"cache": True, "nogil": True, "fastmath": {"nsz", "arcp", "contract", "afn", "reassoc"}}


class IrisPath(NamedTuple):
    """Where an iris is moved from and to, in the pixels of its eye's box."""

    source_x: float
    source_y: float
    target_x: float
    target_y: float


@njit(**_COMPILE)
def edge_scale(radius: float) -> float:
    """How many times wider than the pixel widths above this eye's soft edges are (at least 1)."""
    return max(radius / EDGE_REFERENCE_RADIUS_PX, 1.0)


@njit(**_COMPILE)
def draw_radius(radius: float) -> float:
    """How far from its centre the moved iris is drawn: the limbus and its blurred outer edge."""
    return radius * LIMBUS_SPREAD + 0.5 * edge_scale(radius)


@njit(**_COMPILE)
def hole_radius(radius: float) -> float:
    """How far from the old iris centre the sclera is redrawn, the last pixels blending into the real one."""
    return draw_radius(radius) + HOLE_FEATHER_PX * edge_scale(radius)


@njit(**_COMPILE)
def _inside(depth: float, scale: float) -> float:
    """How much a pixel ``depth`` pixels inside the opening shows (0-1): the lid line's antialiased edge,
    ``scale`` pixels wide."""
    return _ramp(depth / scale + 0.5)


@njit(**_COMPILE)
def _ramp(value: float) -> float:
    """``value`` clamped to 0-1."""
    return min(max(value, 0.0), 1.0)


@njit(**_COMPILE)
def _distance(dx: float, dy: float) -> float:
    return math.sqrt(dx * dx + dy * dy)


@njit(**_COMPILE)
def luma_of(blue: float, green: float, red: float) -> float:
    """A BGR colour's brightness (``LUMA``)."""
    return LUMA[0] * blue + LUMA[1] * green + LUMA[2] * red


@njit(**_COMPILE)
def _dot(first: np.ndarray, second: np.ndarray) -> float:
    """The dot product of two short vectors (np.dot would want SciPy's BLAS in compiled code)."""
    total = 0.0
    for k in range(first.shape[0]):
        total += first[k] * second[k]
    return total


@njit(**_COMPILE)
def _sclera_basis(u: float, t: float, basis: np.ndarray) -> None:
    """The sclera field's basis at (u, t), written into ``basis`` (6): 1, u, u^2, t, t^2, u t."""
    basis[0] = 1.0
    basis[1] = u
    basis[2] = u * u
    basis[3] = t
    basis[4] = t * t
    basis[5] = u * t


@njit(**_COMPILE)
def _solve(matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``matrix`` (n, n) \\ ``right`` (n, m) by Gaussian elimination with partial pivoting (the inputs are
    overwritten): the 6x6 normal equations of the sclera fit, without a LAPACK call per eye."""
    size = matrix.shape[0]
    for column in range(size):
        pivot = column
        for row in range(column + 1, size):
            if abs(matrix[row, column]) > abs(matrix[pivot, column]):
                pivot = row
        if pivot != column:
            for k in range(size):
                matrix[column, k], matrix[pivot, k] = matrix[pivot, k], matrix[column, k]
            for k in range(right.shape[1]):
                right[column, k], right[pivot, k] = right[pivot, k], right[column, k]
        head = matrix[column, column]
        if abs(head) < 1e-12:
            continue
        for row in range(column + 1, size):
            factor = matrix[row, column] / head
            if factor != 0.0:
                for k in range(column, size):
                    matrix[row, k] -= factor * matrix[column, k]
                for k in range(right.shape[1]):
                    right[row, k] -= factor * right[column, k]
    solution = np.zeros_like(right)
    for row in range(size - 1, -1, -1):
        head = matrix[row, row]
        if abs(head) < 1e-12:
            continue
        for k in range(right.shape[1]):
            value = right[row, k]
            for later in range(row + 1, size):
                value -= matrix[row, later] * solution[later, k]
            solution[row, k] = value / head
    return solution


@njit(**_COMPILE)
def fit_sclera(u: np.ndarray, t: np.ndarray, colours: np.ndarray):
    """The smooth colour field that fits sclera samples at (u, t) (u along the eye, t from the upper lid,
    0, to the lower, 1) of ``colours`` (N, 3), BGR, with lashes, veins, lid shadow and any iris that
    spilled past the hole left out. Returns the coefficients (3, 6) over the basis 1, u, u^2, t, t^2,
    u t; the darkest and the brightest colour (3 each) the field may take, from the real sclera; and
    the sclera's typical brightness."""
    count = u.shape[0]
    luma = np.empty(count)
    bases = np.empty((count, 6))
    for k in range(count):
        luma[k] = luma_of(colours[k, 0], colours[k, 1], colours[k, 2])
        _sclera_basis(u[k], t[k], bases[k])
    keep = np.ones(count, np.bool_)
    residual = np.zeros(count)
    coefficients = np.zeros((3, 6))
    spread = 0.0
    for _ in range(3):
        # Normal equations with each sample in or out, a little ridge on all but the flat term.
        normal = np.zeros((6, 6))
        right = np.zeros((6, 3))
        for k in range(count):
            if keep[k]:
                basis = bases[k]
                for a in range(6):
                    for b in range(a, 6):
                        normal[a, b] += basis[a] * basis[b]
                    for c in range(3):
                        right[a, c] += basis[a] * colours[k, c]
        for a in range(6):
            for b in range(a):
                normal[a, b] = normal[b, a]
        for a in range(1, 6):
            normal[a, a] += SCLERA_RIDGE
        coefficients = _solve(normal, right).T.copy()
        luma_coefficients = np.zeros(6)
        for a in range(6):
            luma_coefficients[a] = luma_of(coefficients[0, a], coefficients[1, a], coefficients[2, a])
        total, kept = 0.0, 0
        for k in range(count):
            residual[k] = luma[k] - _dot(luma_coefficients, bases[k])
            if keep[k]:
                total += abs(residual[k])
                kept += 1
        spread = 1.25 * total / max(kept, 1) + 2.0
        # What is darker than the field is trimmed hard: the sclera is the bright part of the opening,
        # and a field pulled down by lid shadow and lashes leaves a dull grey where the iris was.
        trimmed = (residual > -0.5 * spread) & (residual < 3.0 * spread)
        # An eye with too few samples left keeps the ones it had.
        if trimmed.sum() >= MIN_FIT_SAMPLES:
            keep = trimmed
    # The colours the field may take come from a looser trim: the hard one drops the real shading
    # toward the corners along with the lashes.
    bounded = (residual > -spread) & (residual < 3.0 * spread)
    if not bounded.any():
        bounded[:] = True
    low = np.full(3, np.inf)
    high = np.full(3, -np.inf)
    luma_total, kept = 0.0, 0
    for k in range(count):
        if bounded[k]:
            for c in range(3):
                low[c] = min(low[c], colours[k, c])
                high[c] = max(high[c], colours[k, c])
        if keep[k]:
            luma_total += luma[k]
            kept += 1
    return coefficients, low, high, luma_total / max(kept, 1)


@njit(**_COMPILE)
def sclera_colour(coefficients: np.ndarray, low: np.ndarray, high: np.ndarray, u: float,
                  t: float) -> tuple[float, float, float]:
    """The field's colour (B, G, R) at (u, t)."""
    return (_sclera_channel(coefficients, low, high, 0, u, t), _sclera_channel(coefficients, low, high, 1, u, t),
            _sclera_channel(coefficients, low, high, 2, u, t))


@njit(**_COMPILE)
def _sclera_channel(coefficients: np.ndarray, low: np.ndarray, high: np.ndarray, c: int, u: float, t: float) -> float:
    value = (coefficients[c, 0] + u * (coefficients[c, 1] + u * coefficients[c, 2])
             + t * (coefficients[c, 3] + t * coefficients[c, 4] + u * coefficients[c, 5]))
    return min(max(value, low[c]), high[c])


@njit(**_COMPILE)
def eye_layers(region: np.ndarray, eye: EyeNumbers, path: IrisPath, radius: float):
    """Each pixel's place in the eye (u, and t from the upper lid to the lower), how far inside the
    opening it lies (pixels, negative outside), and the sclera field fitted to the sclera in sight,
    for the box ``region`` (H, W, 3) uint8. The first value says whether the eye can be redrawn at all:
    it shows enough sclera, and an iris darker than it (``MIN_IRIS_CONTRAST``)."""
    height, width = region.shape[0], region.shape[1]
    u = np.empty((height, width))
    t = np.empty((height, width))
    depth = np.empty((height, width))
    # Small eyes show little sclera beside a large iris: where too little lies clear of the lids and
    # the limbus, the samples come closer to both.
    clear = np.zeros(height * width, np.bool_)
    close = np.zeros(height * width, np.bool_)
    scale = edge_scale(radius)
    clear_from, close_from = hole_radius(radius) + scale, draw_radius(radius)
    iris_total, iris_count = 0.0, 0
    for y in range(height):
        for x in range(width):
            along, across = eye_coordinates(x - eye.origin_x, y - eye.origin_y, (eye.along_x, eye.along_y),
                                            (eye.across_x, eye.across_y), eye.half_width)
            upper, lower = lid_curves(along, (eye.upper_a, eye.upper_b), (eye.lower_a, eye.lower_b))
            inside = opening_depth(along, across, (upper, lower), eye.half_width)
            u[y, x], t[y, x], depth[y, x] = along, (across - upper) / max(lower - upper, 1.0), inside
            from_source = _distance(x - path.source_x, y - path.source_y)
            clear[y * width + x] = inside > SCLERA_LID_MARGIN_PX * scale and from_source > clear_from
            close[y * width + x] = inside > 0.5 * scale and from_source > close_from
            if from_source < IRIS_MIDDLE * radius and inside > LID_MARGIN_PX * scale:
                iris_total += luma_of(region[y, x, 0], region[y, x, 1], region[y, x, 2])
                iris_count += 1
    sampled = clear if clear.sum() >= MIN_SCLERA_SAMPLES else close
    if sampled.sum() < MIN_SCLERA_SAMPLES:
        return False, u, t, depth, np.zeros((3, 6)), np.zeros(3), np.zeros(3), 0.0
    chosen = np.nonzero(sampled)[0]
    coefficients, low, high, luma = fit_sclera(u.ravel()[chosen], t.ravel()[chosen],
                                               region.reshape(height * width, 3)[chosen])
    shows_an_iris = iris_count == 0 or luma - iris_total / iris_count >= MIN_IRIS_CONTRAST
    return shows_an_iris, u, t, depth, coefficients, low, high, luma


@njit(**_COMPILE)
def _neighbours(x: float, y: float, height: int, width: int):
    """The four pixels around (x, y), the edge pixels repeated past the edges (columns x0, x1, rows y0,
    y1), and their bilinear weights (top left, top right, bottom left, bottom right)."""
    left, top = math.floor(x), math.floor(y)
    fx, fy = x - left, y - top
    x0, x1 = min(max(left, 0), width - 1), min(max(left + 1, 0), width - 1)
    y0, y1 = min(max(top, 0), height - 1), min(max(top + 1, 0), height - 1)
    return x0, x1, y0, y1, (1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy


@njit(**_COMPILE)
def sample_colour(region: np.ndarray, x: float, y: float) -> tuple[float, float, float]:
    """``region`` (H, W, 3) at (x, y), bilinear, the edge pixels repeated past the edges."""
    x0, x1, y0, y1, top_left, top_right, bottom_left, bottom_right = _neighbours(x, y, region.shape[0], region.shape[1])
    return ((top_left * region[y0, x0, 0] + top_right * region[y0, x1, 0]
             + bottom_left * region[y1, x0, 0] + bottom_right * region[y1, x1, 0]),
            (top_left * region[y0, x0, 1] + top_right * region[y0, x1, 1]
             + bottom_left * region[y1, x0, 1] + bottom_right * region[y1, x1, 1]),
            (top_left * region[y0, x0, 2] + top_right * region[y0, x1, 2]
             + bottom_left * region[y1, x0, 2] + bottom_right * region[y1, x1, 2]))


@njit(**_COMPILE)
def _sample(region: np.ndarray, depth: np.ndarray, x: float, y: float) -> tuple[float, float, float, float]:
    """``region`` (H, W, 3) and ``depth`` (H, W) at (x, y), as ``sample_colour``: B, G, R and depth."""
    blue, green, red = sample_colour(region, x, y)
    x0, x1, y0, y1, top_left, top_right, bottom_left, bottom_right = _neighbours(x, y, depth.shape[0], depth.shape[1])
    inside = (top_left * depth[y0, x0] + top_right * depth[y0, x1]
              + bottom_left * depth[y1, x0] + bottom_right * depth[y1, x1])
    return blue, green, red, inside


@njit(**_COMPILE)
def _sample_or_zero(plane: np.ndarray, x: float, y: float) -> float:
    """``plane`` (H, W) at (x, y), bilinear, zero past the edges."""
    height, width = plane.shape
    left, top = math.floor(x), math.floor(y)
    fx, fy = x - left, y - top
    total = 0.0
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            row, column = top + dy, left + dx
            if 0 <= row < height and 0 <= column < width:
                total += wy * wx * plane[row, column]
    return total


@njit(**_COMPILE)
def _span(centre: float, reach: float, size: int) -> tuple[int, int]:
    """The rows (or columns) from 0 to ``size`` within ``reach`` of ``centre``: first, and one past the last."""
    return max(int(math.floor(centre - reach)), 0), min(int(math.ceil(centre + reach)) + 1, size)


@njit(**_COMPILE)
def _as_float(region: np.ndarray) -> np.ndarray:
    """``region`` (H, W, 3) uint8 as float64: the loop compiles to what ``astype`` took twice as long for (0.02
    ms for a 1080p eye's box)."""
    height, width = region.shape[0], region.shape[1]
    converted = np.empty((height, width, 3))
    for y in range(height):
        for x in range(width):
            for c in range(3):
                converted[y, x, c] = region[y, x, c]
    return converted


@njit(**_COMPILE)
def _chord(centre_x: float, centre_y: float, reach: float, y: int, width: int) -> tuple[int, int]:
    """The columns from 0 to ``width`` of row ``y`` within ``reach`` of the centre (a few more at the ends):
    first, and one past the last; none where the row misses the disc. Loops over a disc's pixels walk these
    instead of its square, whose corners are a fifth of it."""
    rise = y - centre_y
    if abs(rise) >= reach:
        return 0, 0
    half = math.sqrt(reach * reach - rise * rise)
    return max(int(math.floor(centre_x - half)), 0), min(int(math.ceil(centre_x + half)) + 1, width)


@njit(**_COMPILE)
def _shown(depth: float, scale: float) -> float:
    """How much of a source pixel ``depth`` pixels inside the opening is iris: nothing within
    LID_MARGIN_PX (times ``scale``) of a lid line, where lashes and lid shadow lie."""
    return _ramp((depth - LID_MARGIN_PX * scale) / scale + 0.5)


@njit(**_COMPILE)
def _weighted_sums(colours: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Summed-area tables of ``weights`` (H, W) times each channel of ``colours`` (H, W, K), and of
    ``weights`` (channel K): any square's weighted mean in four lookups."""
    height, width = weights.shape
    channels = colours.shape[2]
    sums = np.zeros((height + 1, width + 1, channels + 1))
    for y in range(height):
        for x in range(width):
            weight = weights[y, x]
            for c in range(channels + 1):
                value = weight if c == channels else weight * colours[y, x, c]
                sums[y + 1, x + 1, c] = value + sums[y, x + 1, c] + sums[y + 1, x, c] - sums[y, x, c]
    return sums


@njit(**_COMPILE)
def _rings_filled(ring_luma: np.ndarray, ring_weight: np.ndarray) -> np.ndarray:
    """The ring profile with each ring too little of shows taken from the nearest ring that shows (the
    inner one on a tie); all ones where none shows."""
    rings = ring_luma.shape[0]
    filled = np.ones(rings)
    for ring in range(rings):
        for gap in range(rings):
            nearest = ring - gap if ring - gap >= 0 and ring_weight[ring - gap] > 0.5 else ring + gap
            if nearest < rings and ring_weight[nearest] > 0.5:
                filled[ring] = ring_luma[nearest]
                break
    return filled


@njit(**_COMPILE)
def _square_mean(sums: np.ndarray, y: int, x: int, reach: int, c: int) -> float:
    """Channel ``c`` of the sums (``_weighted_sums``) over the square of ``reach`` around (y, x)."""
    top, bottom = max(y - reach, 0), min(y + reach + 1, sums.shape[0] - 1)
    left, right = max(x - reach, 0), min(x + reach + 1, sums.shape[1] - 1)
    return sums[bottom, right, c] - sums[top, right, c] - sums[bottom, left, c] + sums[top, left, c]


@njit(**_COMPILE)
def _extent(plane: np.ndarray, reach: int) -> tuple[int, int, int, int]:
    """The rows and columns (top, bottom, left, right; the ends exclusive) of ``plane``'s values above 0, grown
    by ``reach`` and clipped to it; bottom is top where there are none. A square of ``reach`` round any of those
    values, clipped to ``plane``, lies inside: summed-area tables of this part answer it as the whole's would."""
    height, width = plane.shape
    top, bottom, left, right = height, 0, width, 0
    for y in range(height):
        for x in range(width):
            if plane[y, x] > 0.0:
                top, bottom = min(top, y), max(bottom, y + 1)
                left, right = min(left, x), max(right, x + 1)
    if bottom <= top:
        return 0, 0, 0, 0
    return max(top - reach, 0), min(bottom + reach, height), max(left - reach, 0), min(right + reach, width)


@njit(**_COMPILE)
def _grown(plane: np.ndarray, reach: int) -> np.ndarray:
    """``plane`` (H, W, no value below 0) with each pixel the largest value within ``reach`` pixels (a
    square). Each value above 0 is spread over its square: the specks it is used on are a few dozen
    pixels of an iris's thousands, so this visits far fewer than a filter over every pixel."""
    height, width = plane.shape
    largest_near = plane.copy()
    for y in range(height):
        for x in range(width):
            value = plane[y, x]
            if value <= 0.0:
                continue
            for other_y in range(max(y - reach, 0), min(y + reach + 1, height)):
                for other_x in range(max(x - reach, 0), min(x + reach + 1, width)):
                    largest_near[other_y, other_x] = max(largest_near[other_y, other_x], value)
    return largest_near


@njit(**_COMPILE)
def _speck(luma: float, iris_luma: float, contrast: float) -> float:
    """How much a pixel on the iris is a catchlight: nearly as bright as the sclera, or brighter. The
    ramp starts halfway up from the iris, so that a catchlight's blurred rim goes with it and does not
    stay behind as a pale ring."""
    return _ramp((luma - (iris_luma + 0.5 * contrast)) / (0.35 * contrast))


@njit(**_COMPILE)
def _catchlight(luma: float, from_centre: float, radius: float, scale: float, iris_luma: float,
                contrast: float) -> float:
    """How much a pixel ``from_centre`` pixels from an iris's centre is its catchlight: a speck, and
    only on the iris proper (within CATCHLIGHT_REACH, the edge ``scale`` pixels wide)."""
    return (_ramp((CATCHLIGHT_REACH * radius - from_centre) / scale + 0.5)
            * _speck(luma, iris_luma, contrast))


@njit(**_COMPILE)
def _point_at(eye: EyeNumbers, u: float, t: float) -> tuple[float, float]:
    """The box pixel at (u, t) of the eye (t from the upper lid, 0, to the lower, 1)."""
    upper, lower = lid_curves(u, (eye.upper_a, eye.upper_b), (eye.lower_a, eye.lower_b))
    along, across = u * eye.half_width, upper + t * (lower - upper)
    return (eye.origin_x + along * eye.along_x + across * eye.across_x,
            eye.origin_y + along * eye.along_y + across * eye.across_y)


@njit(**_COMPILE)
def _hole_edge(eye: EyeNumbers, path: IrisPath, t: float, source_u: float, step: float, reach: float) -> float:
    """The first u from the old iris's, in steps of ``step``, where the line at ``t`` lies farther than ``reach``
    from the old iris centre; NaN where it reaches the corner first. Strides of HOLE_EDGE_STRIDE steps come first,
    then single steps from the last stride inside: the distance grows along the line near the hole's edge,
    and a walk of single steps from the iris was 0.05 ms of a 1080p eye's 0.33 ms redraw. (The first point is read
    on its own, as the single steps read it: a line that starts past either end says so at once.)"""
    # u is carried by adding ``step`` as a walk of single steps adds it, so that both read the same points.
    u = source_u
    if abs(u) >= 1.0:
        return math.nan
    x, y = _point_at(eye, u, t)
    if _distance(x - path.source_x, y - path.source_y) > reach:
        return u
    while True:
        ahead = u
        for _ in range(HOLE_EDGE_STRIDE):
            ahead += step
        if abs(ahead) >= 1.0:
            break
        x, y = _point_at(eye, ahead, t)
        if _distance(x - path.source_x, y - path.source_y) > reach:
            break
        u = ahead
    while True:
        u += step
        if abs(u) >= 1.0:
            return math.nan
        x, y = _point_at(eye, u, t)
        if _distance(x - path.source_x, y - path.source_y) > reach:
            return u


@njit(**_COMPILE)
def hole_edges(region: np.ndarray, eye: EyeNumbers, path: IrisPath, radius: float, coefficients: np.ndarray,
               low: np.ndarray, high: np.ndarray, lid_shading: np.ndarray):
    """Where the hole left by the old iris ends on each side along the eye, and how the real sclera
    there differs from the fitted field (shaded under the upper lid by ``lid_shading``), in bands from
    the upper lid to the lower (t = 0 to 1).

    Returns u at the hole's edge (bands, 2: toward u = -1, toward u = +1), NaN where the hole reaches
    the corner on that side, and the real colour minus the field's just past it (bands, 2, 3). The
    field is smooth and leaves out most of the shading under the lids; carried across the hole from both
    edges, these differences keep the rest of it beside the hole and leave no seam where the fill meets
    the real sclera. Only sclera is read: clear of the lid lines (as for the fit: lashes lie there), and
    in shade at most (EDGE_SHADE); a band with none takes the difference of the nearest band that
    has one.
    """
    scale = edge_scale(radius)
    hole = hole_radius(radius)
    bands = max(int(math.ceil(radius)), 4)
    edges = np.full((bands, 2), np.nan)
    differences = np.zeros((bands, 2, 3))
    known = np.zeros((bands, 2), np.bool_)
    darkest = luma_of(low[0], low[1], low[2])
    source_u = ((path.source_x - eye.origin_x) * eye.along_x + (path.source_y - eye.origin_y) * eye.along_y) / eye.half_width
    step = 0.5 / eye.half_width
    for band in range(bands):
        t = band / (bands - 1.0)
        for side in range(2):
            direction = -1.0 if side == 0 else 1.0
            u = _hole_edge(eye, path, t, source_u, direction * step, hole + 0.5)
            if math.isnan(u):
                continue
            edges[band, side] = u
            # The real sclera just past the edge, averaged over a few samples along the band.
            total = np.zeros(3)
            count = 0
            for k in range(4):
                sample_u = u + direction * 2.0 * k * scale * step
                x, y = _point_at(eye, sample_u, t)
                upper, lower = lid_curves(sample_u, (eye.upper_a, eye.upper_b), (eye.lower_a, eye.lower_b))
                across = upper + t * (lower - upper)
                if opening_depth(sample_u, across, (upper, lower), eye.half_width) <= SCLERA_LID_MARGIN_PX * scale:
                    continue
                real = sample_colour(region, x, y)
                field = _shaded_field(coefficients, low, high, lid_shading, sample_u, t)
                # A lash, the dark of a corner or the iris's rim, not shaded sclera: darker than any
                # sclera the fit kept, and than the field can be in shade.
                if luma_of(real[0], real[1], real[2]) < min(darkest, EDGE_SHADE * luma_of(field[0], field[1], field[2])):
                    continue
                for c in range(3):
                    total[c] += real[c] - field[c]
                count += 1
            if count > 0:
                differences[band, side] = total / count
                known[band, side] = True
    for side in range(2):
        for band in range(bands):
            if known[band, side] or math.isnan(edges[band, side]):
                continue
            for gap in range(1, bands):
                nearest = band - gap if band - gap >= 0 and known[band - gap, side] else band + gap
                if nearest < bands and known[nearest, side]:
                    differences[band, side] = differences[nearest, side]
                    break
        # Neighbouring bands smoothed together ([1, 2, 1], twice), so that noise in the sclera does
        # not streak along the fill.
        for _ in range(2):
            smoothed = differences[:, side].copy()
            for band in range(bands):
                total, weight = 2.0 * differences[band, side], 2.0
                for other in (band - 1, band + 1):
                    if 0 <= other < bands and not math.isnan(edges[other, side]):
                        total += differences[other, side]
                        weight += 1.0
                smoothed[band] = total / weight
            differences[:, side] = smoothed
    return edges, differences


@njit(**_COMPILE)
def _edge_difference(edges: np.ndarray, differences: np.ndarray, u: float, t: float) -> tuple[float, float, float]:
    """The difference from the field (B, G, R) carried to (u, t) from the hole's edges: linear along the
    eye between the two edges of the bands either side of t (from the one edge where the other is a corner)."""
    bands = edges.shape[0]
    position = min(max(t, 0.0), 1.0) * (bands - 1)
    first = min(int(position), bands - 2)
    blue, green, red, weight = 0.0, 0.0, 0.0, 0.0
    for band, share in ((first, first + 1.0 - position), (first + 1, position - first)):
        left, right = edges[band, 0], edges[band, 1]
        if math.isnan(left) and math.isnan(right):
            continue
        along = 1.0 if math.isnan(left) else 0.0 if math.isnan(right) else _ramp((u - left) / max(right - left, 1e-6))
        near_side, far_side = differences[band, 0], differences[band, 1]
        blue += share * (near_side[0] + along * (far_side[0] - near_side[0]))
        green += share * (near_side[1] + along * (far_side[1] - near_side[1]))
        red += share * (near_side[2] + along * (far_side[2] - near_side[2]))
        weight += share
    if weight <= 0.0:
        return 0.0, 0.0, 0.0
    return blue / weight, green / weight, red / weight


@njit(**_COMPILE)
def lid_shade(region: np.ndarray, path: IrisPath, radius: float, u: np.ndarray, t: np.ndarray, depth: np.ndarray,
              coefficients: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """How the real opening darkens toward the upper lid in this eye, as factors on the sclera field: per band
    of LID_SHADE_BAND_T of the opening's height below the lid (band 0 next to it), a quantile of its pixels'
    brightness over the field's there (the field is fitted to the sclera clear of the lids: 1 is no shade).
    The old iris's pixels and the corners are left out, and a large eye is read at every ``edge_scale``-th
    pixel (the same count as a small one's). The lid and its lashes shade the sclera under them, and a fill
    as bright as the open sclera right up to the lashes read as a pale disc pasted on. (The lower lid's
    shade was tried too: its rim and lower lashes, carried into the fill, left a grey band across it.)"""
    height, width = depth.shape
    scale = edge_scale(radius)
    step = max(int(scale), 1)
    away_from_source = hole_radius(radius) + scale
    reach = LID_SHADE_BANDS * LID_SHADE_BAND_T
    ratios = np.empty((LID_SHADE_BANDS, ((height + step - 1) // step) * ((width + step - 1) // step)))
    counts = np.zeros(LID_SHADE_BANDS, np.int64)
    for y in range(0, height, step):
        for x in range(0, width, step):
            if depth[y, x] <= 0.0 or abs(u[y, x]) > 0.85 or t[y, x] >= reach:
                continue
            if _distance(x - path.source_x, y - path.source_y) <= away_from_source:
                continue
            field = sclera_colour(coefficients, low, high, u[y, x], t[y, x])
            band = min(max(int(t[y, x] / LID_SHADE_BAND_T), 0), LID_SHADE_BANDS - 1)
            ratios[band, counts[band]] = (luma_of(region[y, x, 0], region[y, x, 1], region[y, x, 2])
                                          / max(luma_of(field[0], field[1], field[2]), 1.0))
            counts[band] += 1
    shade = np.ones(LID_SHADE_BANDS)
    # A band too few pixels tell about takes the next one's down (the last, no shade), and each band is at
    # least as light as the one nearer the lid.
    for band in range(LID_SHADE_BANDS - 1, -1, -1):
        if counts[band] >= LID_SHADE_MIN_PIXELS:
            shade[band] = min(max(np.quantile(ratios[band, :counts[band]], LID_SHADE_QUANTILE), LID_SHADE_DARKEST), 1.0)
        elif band + 1 < LID_SHADE_BANDS:
            shade[band] = shade[band + 1]
    for band in range(1, LID_SHADE_BANDS):
        shade[band] = max(shade[band], shade[band - 1])
    return shade


@njit(**_COMPILE)
def _shade_at(shade: np.ndarray, t: float) -> float:
    """``lid_shade``'s factor at ``t``: linear between the bands' middles, reaching 1 a band past the last."""
    position = max(t / LID_SHADE_BAND_T - 0.5, 0.0)
    first = int(position)
    bands = shade.shape[0]
    if first >= bands:
        return 1.0
    after = shade[first + 1] if first + 1 < bands else 1.0
    return shade[first] + (position - first) * (after - shade[first])


@njit(**_COMPILE)
def _shaded_field(coefficients: np.ndarray, low: np.ndarray, high: np.ndarray, lid_shading: np.ndarray, u: float,
                  t: float) -> tuple[float, float, float]:
    """The sclera field at (u, t) with the shade under the upper lid (``lid_shade``)."""
    blue, green, red = sclera_colour(coefficients, low, high, u, t)
    under_lid = _shade_at(lid_shading, t)
    return under_lid * blue, under_lid * green, under_lid * red


@njit(**_COMPILE)
def redraw_eye(region: np.ndarray, eye: EyeNumbers, path: IrisPath, radius: float, strength: float, u: np.ndarray,
               t: np.ndarray, depth: np.ndarray, coefficients: np.ndarray, low: np.ndarray, high: np.ndarray, sclera_luma: float,
               out: np.ndarray) -> None:
    """The eye of the box ``region`` (H, W, 3) uint8 redrawn into ``out`` (the same box of the frame):
    the sclera where the iris was, the iris at its target, the catchlight, all blended over the real
    eye by ``strength``. ``u`` to ``sclera_luma`` are ``eye_layers``' results for the same box. Only
    pixels near the old and the new iris change; the loops visit only those."""
    height, width = depth.shape
    drawn = _as_float(region)
    hole, drawn_radius, scale = hole_radius(radius), draw_radius(radius), edge_scale(radius)
    # The pixels each layer can change: within the hole's feathered edge of the old iris, within ``hole`` of
    # the new one (nothing farther is drawn or needed for the ring profile). (The square round the old iris
    # once stopped at hole + 0.5 px, short of the feather's outer half: at 1080p a seam of up to 19 grey
    # levels where the fill met the sclera beside and above it.)
    sclera_reach = hole + 0.5 * HOLE_FEATHER_PX * scale  # where the weight below reaches 0
    source_rows = _span(path.source_y, sclera_reach, height)  # each row's columns: ``_chord``
    rows, columns = _span(path.target_y, hole, height), _span(path.target_x, hole, width)

    # Sclera layer, where the old iris was: the field, plus the real sclera's difference from it at the
    # hole's edges; its edge blends over HOLE_FEATHER_PX into the real sclera.
    lid_shading = lid_shade(region, path, radius, u, t, depth, coefficients, low, high)
    edges, differences = hole_edges(region, eye, path, radius, coefficients, low, high, lid_shading)
    # Where the moved iris will cover the fill wholly (its texture at full weight, the opening at full depth:
    # ``within`` and ``alpha`` 1 below), the fill is not worked out: that was much of the old hole in a glare.
    # (A hair inside those lines, so that rounding never leaves a pixel the iris blends over unfilled.)
    covered_within, covered_depth = radius - 0.5 * scale - 0.01, 0.5 * scale + 0.01
    for y in range(*source_rows):
        for x in range(*_chord(path.source_x, path.source_y, sclera_reach, y, width)):
            weight = (_ramp((hole - _distance(x - path.source_x, y - path.source_y)) / (HOLE_FEATHER_PX * scale) + 0.5)
                      * _inside(depth[y, x], scale))
            if weight > 0.0 and not (depth[y, x] > covered_depth
                                     and _distance(x - path.target_x, y - path.target_y) < covered_within):
                field = _shaded_field(coefficients, low, high, lid_shading, u[y, x], t[y, x])
                shade = _edge_difference(edges, differences, u[y, x], t[y, x])
                for c in range(3):
                    fill = min(max(field[c] + shade[c], 0.0), 255.0)
                    drawn[y, x, c] += weight * (fill - drawn[y, x, c])

    # Iris layer. Each pixel near the target takes the source pixel at the same offset from the centre
    # (direct), and where that was hidden, the one at the same radius and the angle mirrored across the
    # eye's axis (mirrored), each with how far inside the opening it lay. The iris's own arrays cover
    # only its window (``rows`` x ``columns``, indices from its corner): at 1080p the eye's box is twice
    # its size, and zeroing and walking that showed in the cost.
    shift_x, shift_y = path.source_x - path.target_x, path.source_y - path.target_y
    source_across = path.source_x * eye.across_x + path.source_y * eye.across_y
    window_height, window_width = max(rows[1] - rows[0], 0), max(columns[1] - columns[0], 0)
    direct = np.zeros((window_height, window_width, 4))
    direct_luma = np.zeros((window_height, window_width))
    from_target = np.empty((window_height, window_width))
    # The direct samples are the box moved by (shift_x, shift_y): every one has the same bilinear weights.
    step_x, step_y = math.floor(shift_x), math.floor(shift_y)
    right, down = shift_x - step_x, shift_y - step_y
    weights = ((1.0 - right) * (1.0 - down), right * (1.0 - down), (1.0 - right) * down, right * down)
    inner_luma, inner_weight = 0.0, 0.0
    for wy in range(window_height):
        y = rows[0] + wy
        y0, y1 = min(max(y + step_y, 0), height - 1), min(max(y + step_y + 1, 0), height - 1)
        for wx in range(window_width):
            x = columns[0] + wx
            from_target[wy, wx] = _distance(x - path.target_x, y - path.target_y)
            if from_target[wy, wx] >= hole:
                continue  # nothing is drawn there
            x0, x1 = min(max(x + step_x, 0), width - 1), min(max(x + step_x + 1, 0), width - 1)
            for c in range(3):
                direct[wy, wx, c] = (weights[0] * region[y0, x0, c] + weights[1] * region[y0, x1, c]
                                     + weights[2] * region[y1, x0, c] + weights[3] * region[y1, x1, c])
            direct[wy, wx, 3] = (weights[0] * depth[y0, x0] + weights[1] * depth[y0, x1]
                                 + weights[2] * depth[y1, x0] + weights[3] * depth[y1, x1])
            # Read by every layer below: computed once here.
            direct_luma[wy, wx] = luma_of(direct[wy, wx, 0], direct[wy, wx, 1], direct[wy, wx, 2])
            if from_target[wy, wx] < 0.8 * radius:
                shown = _shown(direct[wy, wx, 3], scale)
                inner_luma += shown * direct_luma[wy, wx]
                inner_weight += shown
    # Catchlights are bright specks on the iris; they are kept out of its texture and drawn apart.
    iris_luma = inner_luma / max(inner_weight, 1e-3)
    contrast = max(sclera_luma - iris_luma, 10.0)

    # The iris's own texture where it showed at the source, else the mirrored texture, else the ring
    # profile: the visible iris's mean brightness at each whole-pixel radius (the dark limbal ring,
    # the lighter middle) in its mean colour, which comes from the iris itself (farther out the
    # texture is sclera and skin).
    rings = int(hole) + 1
    ring_weight, ring_luma = np.zeros(rings), np.zeros(rings)
    mean_colour, mean_weight = np.zeros(3), 0.0
    texture, speck = np.zeros((window_height, window_width)), np.zeros((window_height, window_width))
    for wy in range(window_height):
        for wx in range(window_width):
            if from_target[wy, wx] >= hole:
                continue
            # Only on the iris: the sclera past the limbus is as bright, and belongs to the ring profile.
            speck[wy, wx] = _catchlight(direct_luma[wy, wx], from_target[wy, wx], radius, scale, iris_luma, contrast)
    # A catchlight's blurred rim is left out with it (the specks grown by the edge width), or it
    # stays behind as a pale ring.
    speck = _grown(speck, int(math.ceil(scale)))
    for wy in range(window_height):
        for wx in range(window_width):
            if from_target[wy, wx] >= hole:
                continue
            shown = _shown(direct[wy, wx, 3], scale)
            speck[wy, wx] *= shown
            texture[wy, wx] = shown - speck[wy, wx]
            ring = int(from_target[wy, wx])
            ring_weight[ring] += texture[wy, wx]
            ring_luma[ring] += texture[wy, wx] * direct_luma[wy, wx]
            if from_target[wy, wx] < radius:
                for c in range(3):
                    mean_colour[c] += texture[wy, wx] * direct[wy, wx, c]
                mean_weight += texture[wy, wx]
    mean_colour /= max(mean_weight, 1e-3)
    mean_luma = max(luma_of(mean_colour[0], mean_colour[1], mean_colour[2]), 1.0)
    for ring in range(rings):
        ring_luma[ring] = ring_luma[ring] / max(ring_weight[ring], 1e-3) / mean_luma if ring_weight[ring] > 0.5 else 1.0
    # A catchlight's place in the texture is filled from the iris around it: the mirrored side of the
    # iris can be much darker there (the limbal ring, lid shadow), which left a dark spot where it was.
    # From as close as the iris shows (the pupil's edge stays sharp), farther only where it must, and
    # brought to the brightness of its own ring: a catchlight on the pupil is mostly surrounded by iris,
    # and filled with that it left the moved iris a grey pupil (woman_expressions 163, 200).
    # (Only where the iris has a catchlight, and only over the specks and the largest square read round them:
    # the tables were most of this loop's cost, 0.1 ms an eye at 1080p over the whole window.)
    reaches = (int(math.ceil(scale)) + 1, int(math.ceil(3.0 * scale)) + 1)
    sums, profile = np.zeros((1, 1, 5)), ring_luma
    top, bottom, left, right = _extent(speck, reaches[1])
    if bottom > top:
        profile = _rings_filled(ring_luma, ring_weight)
        around_colours = np.zeros((bottom - top, right - left, 4))
        for wy in range(top, bottom):
            for wx in range(left, right):
                if from_target[wy, wx] < hole:
                    for c in range(3):
                        around_colours[wy - top, wx - left, c] = direct[wy, wx, c]
                    around_colours[wy - top, wx - left, 3] = profile[int(from_target[wy, wx])]
        sums = _weighted_sums(around_colours, texture[top:bottom, left:right])
    nearby, mirrored = np.zeros(3), np.zeros(4)
    for wy in range(window_height):
        for wx in range(window_width):
            y, x = rows[0] + wy, columns[0] + wx
            alpha = _ramp((drawn_radius - from_target[wy, wx]) / scale + 0.5) * _inside(depth[y, x], scale)
            if alpha <= 0.0:
                continue
            brightness = ring_luma[int(from_target[wy, wx])]
            # Past the limbus the source shows the rim's blur into sclera, which may be lit brighter
            # on one side: no brighter there than what it is drawn over (a white crescent at 1080p).
            within = _ramp((radius - from_target[wy, wx]) / scale + 0.5)
            rim_over = within < 1.0 and direct_luma[wy, wx] > luma_of(drawn[y, x, 0], drawn[y, x, 1], drawn[y, x, 2])
            hidden = 1.0 - texture[wy, wx] - speck[wy, wx]
            found = 0.0
            if speck[wy, wx] > 0.0:
                for reach, enough in zip(reaches, (1.0, 0.5)):
                    found = _square_mean(sums, wy - top, wx - left, reach, 4)
                    if found > enough:
                        to_ring = (profile[int(from_target[wy, wx])]
                                   / max(_square_mean(sums, wy - top, wx - left, reach, 3) / found, 1e-3))
                        for c in range(3):
                            nearby[c] = min(_square_mean(sums, wy - top, wx - left, reach, c) / found * to_ring, 255.0)
                        break
            mirror_shown = 0.0
            if hidden != 0.0 or (speck[wy, wx] > 0.0 and found <= 0.5):
                # The completion is used: the mirrored pixel (else a fully shown pixel needs none).
                source_x, source_y = x + shift_x, y + shift_y
                reflect = 2.0 * (source_x * eye.across_x + source_y * eye.across_y - source_across)
                mirrored[0], mirrored[1], mirrored[2], mirrored[3] = _sample(
                    region, depth, source_x - reflect * eye.across_x, source_y - reflect * eye.across_y)
                mirror_shown = _shown(mirrored[3], scale)
            for c in range(3):
                around = brightness * mean_colour[c]
                completed = around + mirror_shown * (mirrored[c] - around)
                filled = nearby[c] if found > 0.5 else completed
                rim = drawn[y, x, c] if rim_over else direct[wy, wx, c]
                iris = (within * (texture[wy, wx] * direct[wy, wx, c] + speck[wy, wx] * filled + hidden * completed)
                        + (1.0 - within) * rim)
                drawn[y, x, c] += alpha * (iris - drawn[y, x, c])

    _draw_catchlight(region, depth, path, radius, iris_luma, contrast, scale, drawn)
    # Only pixels round the old and the new iris have changed: within the sclera layer's reach of the one, the
    # iris layer's of the other (the catchlight lies inside it).
    iris_reach = drawn_radius + 0.5 * scale
    for y in range(min(source_rows[0], rows[0]), max(source_rows[1], rows[1])):
        sclera_from, sclera_to = _chord(path.source_x, path.source_y, sclera_reach, y, width)
        iris_from, iris_to = _chord(path.target_x, path.target_y, iris_reach, y, width)
        if sclera_to <= sclera_from:
            sclera_from, sclera_to = iris_from, iris_to
        elif iris_to <= iris_from:
            iris_from, iris_to = sclera_from, sclera_to
        for x in range(min(sclera_from, iris_from), max(sclera_to, iris_to)):
            for c in range(3):
                value = region[y, x, c] + strength * (drawn[y, x, c] - region[y, x, c])
                # Every layer blends real pixels and colours clamped to real ones: this stays in 0-255.
                out[y, x, c] = min(max(int(value + 0.5), 0), 255)


@njit(**_COMPILE)
def _draw_catchlight(region: np.ndarray, depth: np.ndarray, path: IrisPath, radius: float, iris_luma: float,
                     contrast: float, scale: float, drawn: np.ndarray) -> None:
    """The source iris's catchlight, in place in ``drawn``: it stays where the light puts it, pulled
    toward the moved iris only as far as it takes to stay on it."""
    height, width = depth.shape
    mass, moment_x, moment_y = 0.0, 0.0, 0.0
    reach = CATCHLIGHT_REACH * radius
    rows, columns = _span(path.source_y, reach, height), _span(path.source_x, reach, width)
    # The specks in their window only (indices from its corner; nothing lies outside it).
    speck = np.zeros((max(rows[1] - rows[0], 0), max(columns[1] - columns[0], 0)))
    speck_top, speck_left = rows[0], columns[0]
    for y in range(*rows):
        for x in range(*columns):
            value = _catchlight(luma_of(region[y, x, 0], region[y, x, 1], region[y, x, 2]),
                                _distance(x - path.source_x, y - path.source_y), radius, scale, iris_luma, contrast)
            speck[y - rows[0], x - columns[0]] = value
            if value > 0.0:
                mass += value
                moment_x += x * value
                moment_y += y * value
    if mass < 0.5:
        return
    offset_x, offset_y = moment_x / mass - path.target_x, moment_y / mass - path.target_y
    distance = _distance(offset_x, offset_y)
    keep = CATCHLIGHT_KEEP * radius
    pull_x, pull_y = 0.0, 0.0
    if distance > keep + 0.05:
        pull_x, pull_y = offset_x * (keep / distance - 1.0), offset_y * (keep / distance - 1.0)
    rows, columns = _span(path.target_y, radius, height), _span(path.target_x, radius, width)
    for y in range(*rows):
        for x in range(*columns):
            if _distance(x - path.target_x, y - path.target_y) >= radius:
                continue
            alpha = _sample_or_zero(speck, x - pull_x - speck_left, y - pull_y - speck_top) * _inside(depth[y, x], scale)
            if alpha <= 0.0:
                continue
            colour = _sample(region, depth, x - pull_x, y - pull_y)
            for c in range(3):
                drawn[y, x, c] += alpha * (colour[c] - drawn[y, x, c])


REMAP_BITS = 5
"""OpenCV's remap works in 1/32 pixel (``INTER_BITS``): its fixed-point maps hold whole pixels and that fraction."""


@njit(**_COMPILE)
def squint_maps(height: int, width: int, eye: EyeNumbers, drop_px: float, reach_above_px: float,
                fade_below_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of a box (``height`` x ``width``) with the upper lid lowered comes from: the pixel
    ``drop_px`` (at most, in the middle of the lid, less toward the corners) above it across the eye. Over
    the skin above the lid the shift grows to the full drop over ``reach_above_px``; below the lid it fades
    out over ``fade_below_px``.

    Returned as OpenCV's remap takes its fixed-point maps (``cv2.convertMaps`` to ``CV_16SC2`` gives the same
    from float32 maps: whole pixels (H, W, 2) int16, and each pixel's 1/32 fractions, y * 32 + x, (H, W)
    uint16), and OpenCV samples the box bilinearly: 0.07 ms for a 1080p eye where a loop here took 0.19.
    Made here, where the conversion of float maps cost a call and 0.04 ms a 1080p eye in the loop."""
    whole = np.empty((height, width, 2), np.int16)
    fractions = np.empty((height, width), np.uint16)
    for y in range(height):
        for x in range(width):
            along, across = eye_coordinates(x - eye.origin_x, y - eye.origin_y, (eye.along_x, eye.along_y),
                                            (eye.across_x, eye.across_y), eye.half_width)
            upper, _ = lid_curves(along, (eye.upper_a, eye.upper_b), (eye.lower_a, eye.lower_b))
            bulge = max(1.0 - along * along, 0.0)
            below_lid = across - upper
            shift = drop_px * bulge * math.sqrt(bulge) * _ramp(min(1.0 + below_lid / reach_above_px,
                                                                   1.0 - below_lid / fade_below_px))
            whole[y, x, 0], whole[y, x, 1], fractions[y, x] = to_fixed_point(x - shift * eye.across_x,
                                                                             y - shift * eye.across_y)
    return whole, fractions


@njit(**_COMPILE)
def to_fixed_point(x: float, y: float) -> tuple[int, int, int]:
    """A point as ``cv2.convertMaps`` turns a float32 map into ``CV_16SC2``: whole pixels x and y, and the
    1/32 fractions (y * 32 + x); rounded to the nearest 1/32 pixel, halves to even."""
    cells = 1 << REMAP_BITS
    fixed_x = int(np.rint(np.float32(x) * np.float32(cells)))
    fixed_y = int(np.rint(np.float32(y) * np.float32(cells)))
    return fixed_x >> REMAP_BITS, fixed_y >> REMAP_BITS, (fixed_y & (cells - 1)) * cells + (fixed_x & (cells - 1))
