"""Whether an eye shows its sclera: the image's word on openness, where the landmarks' can be wrong.

dlib's six eye points say how open an eye is, and they are often right; but behind a hand, or in
the frames where a blink starts (the landmarks are smoothed and follow a frame or two late), they
read a shut eye as 0.18-0.24 open, and the effect drew a dark iris and a pale fill on the lid. What
the landmarks call the opening then holds lid skin, lashes and their shadow, and nothing as bright
as sclera. So the brightest part of the opening (its upper quintile, the old iris left out) is
compared with the skin just below the eye: on woman_expressions.mp4 an open eye's opening reads
0.69-1.6 times the skin, its shut eyes behind a hand and most of its half-blinks 0.27-0.57. Other
faces' open eyes can read as low (dark irises that fill the opening, eyes in shade), so the gate
measures a face against its own open eyes (the thresholds are in ``glare.openness``).
"""

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from glare.eyes import Eye, EyeNumbers, EyeShape, eye_coordinates, lid_curves, opening_depth
from glare.render import opening_box
from glare.render_kernels import luma_of

OPENING_QUANTILE = 0.8
"""The opening's brightness is this quantile of its pixels': the sclera in it, past lashes and shadow."""
IRIS_CLEARANCE = 1.0
"""Pixels within this many iris radii of the pupil are iris, not sclera, and are left out."""
SKIN_BELOW = (0.4, 0.5, 0.6)
"""The skin is read this many eye widths below the eye's middle (across the eye), at five places along it."""
MIN_PIXELS = 8
"""Fewer opening pixels than this, or fewer than five skin samples in the frame, say nothing."""
SAMPLED_WIDTH_PX = 24.0
"""Wider eyes are read at every (width / this)-th pixel."""


# Unlike the renderer's loops, these keep Python's lock: a 16 us call that let go of it waited to take it
# back from the face-search thread now and then (p99 68-83 us a call in the loop, against 27 holding it).
@njit(cache=True)
def _opening_over_skin(frame: np.ndarray, eye: EyeNumbers, box: tuple[int, int, int, int], centre_x: float,
                       centre_y: float, radius: float) -> float:
    """The ratio ``sclera_over_skin`` returns, for an eye in frame pixels (``eye``'s origin at the frame's
    corner) whose opening lies in ``box``."""
    x0, y0, x1, y1 = box
    # An eye wider than SAMPLED_WIDTH_PX is read at every n-th pixel: some hundreds of samples at any size.
    step = max(int(2.0 * eye.half_width / SAMPLED_WIDTH_PX), 1)
    clear = IRIS_CLEARANCE * radius
    values = np.empty(((y1 - y0 + step - 1) // step) * ((x1 - x0 + step - 1) // step))
    count = 0
    for y in range(y0, y1, step):
        for x in range(x0, x1, step):
            u, v = eye_coordinates(x - eye.origin_x, y - eye.origin_y, (eye.along_x, eye.along_y),
                                   (eye.across_x, eye.across_y), eye.half_width)
            lids = lid_curves(u, (eye.upper_a, eye.upper_b), (eye.lower_a, eye.lower_b))
            if opening_depth(u, v, lids, eye.half_width) <= 0.5:
                continue
            if math.hypot(x - centre_x, y - centre_y) <= clear:
                continue
            values[count] = luma_of(frame[y, x, 0], frame[y, x, 1], frame[y, x, 2])
            count += 1
    if count < MIN_PIXELS:
        return np.nan
    opening = np.quantile(values[:count], OPENING_QUANTILE)
    height, width = frame.shape[0], frame.shape[1]
    skin = np.empty(5 * len(SKIN_BELOW))
    found = 0
    for below in SKIN_BELOW:
        for along in (-0.4, -0.2, 0.0, 0.2, 0.4):
            across = below * 2.0 * eye.half_width
            x = int(round(eye.origin_x + along * eye.half_width * eye.along_x + across * eye.across_x))
            y = int(round(eye.origin_y + along * eye.half_width * eye.along_y + across * eye.across_y))
            if 0 <= x < width and 0 <= y < height:
                skin[found] = luma_of(frame[y, x, 0], frame[y, x, 1], frame[y, x, 2])
                found += 1
    if found < 5:
        return np.nan
    return opening / max(np.median(skin[:found]), 1.0)


def sclera_over_skin(frame: np.ndarray, eye: Eye, shape: EyeShape, pupil: np.ndarray, iris_radius_px: float) -> float:
    """How bright ``eye``'s opening is at its brightest, the iris round ``pupil`` left out, over the skin
    below the eye (``frame`` BGR uint8, all in frame pixels). NaN where too little of either is in the frame."""
    box = opening_box(shape, eye, frame.shape)
    if box is None:
        return math.nan
    return float(_opening_over_skin(frame, shape.numbers(), box, float(pupil[0]), float(pupil[1]),
                                    float(iris_radius_px)))


def warm_up() -> float:
    """Load the compiled reading from Numba's disk cache (or compile it, once per install) on a synthetic
    eye, so that the first frame with a face does not wait for it (11 ms from the cache). Returns the
    seconds it took."""
    start = time.perf_counter()
    frame = np.full((48, 64, 3), 200, np.uint8)
    eye = Eye("right", np.array([[14.0, 24.0], [24.0, 17.0], [38.0, 17.0], [48.0, 24.0], [38.0, 31.0], [24.0, 31.0]]))
    sclera_over_skin(frame, eye, EyeShape.of(eye), np.array([30.0, 24.0]), 5.0)
    return time.perf_counter() - start
