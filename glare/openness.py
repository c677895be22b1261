"""Eye openness, and every threshold on it, in one place.

Openness is the lid gap over the corner-to-corner width (``Eye.openness``, from the six eye
landmarks): about 0.3 for an open eye, under 0.15 in a blink. Two things depend on it:

- **How much a locator trusts a pupil it found** (``pupil_visibility``): nothing below
  ``SHUT_OPENNESS`` (the lids cover the pupil), fully from ``VISIBLE_OPENNESS`` up.
- **Whether and how much the effect moves a face's irises** (``OpennessGate``): decided per face,
  from the less open eye, so both eyes move together or neither does; never below
  ``CLOSED_OPENNESS``; fading with openness up to ``OPEN_OPENNESS`` so a half-closed eye gets a
  smaller move; with hysteresis so it does not flicker at the threshold. And never where the
  image shows no sclera in what the landmarks call the opening, or far less than the face's open
  eyes showed (``SHUT_SCLERA``, ``SHUT_SCLERA_SHARE``, ``glare.sclera_check``): the landmarks read
  eyes shut behind a hand, and eyes starting to blink, as open. Between shut and open in that reading
  (an eye narrowed in a smile), the move is shortened, gradually (``FULL_SCLERA_SHARE``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

SHUT_OPENNESS = 0.08
"""Eyes less open than this show no pupil: a locator's answer there gets confidence 0."""
VISIBLE_OPENNESS = 0.18
"""From this openness up the lids leave the pupil whole: a locator's confidence is not lowered."""
CLOSED_OPENNESS = 0.15
"""Eyes less open than this are closed or blinking: their pixels are never changed."""
REOPEN_OPENNESS = 0.18
"""After a close, the effect comes back only once the face's eyes are this open again."""
OPEN_OPENNESS = 0.22
"""From this openness up, the effect is at full strength."""
MIN_CONFIDENCE = 0.2
"""A pupil found with less confidence than this stops the effect for its face..."""
RESUME_CONFIDENCE = 0.3
"""...until both pupils are found with at least this much again."""
SHUT_SCLERA = 0.3
"""An eye whose opening at its brightest (``glare.sclera_check.sclera_over_skin``: over the skin below the
eye) is darker than this shows no sclera at all: it is shut or covered, whatever its landmarks say, and
the effect stops. Low, because open eyes can show little: dark irises that fill most of the opening, a
baby's, eyes in shade read 0.3-0.55 open on web photos."""
REOPEN_SCLERA = 0.35
"""...until both eyes' openings are at least this bright again."""
SHUT_SCLERA_SHARE = 0.6
"""An eye whose reading falls under this share of what the face's open eyes show (learned from the face,
``TYPICAL_OPEN_SCLERA`` until then) is shut too: woman_expressions.mp4's open eyes read 0.69-1.6, her shut
eyes behind a hand 0.27-0.45 and half-blinks 0.28-0.57; man_webcam.mp4's open eyes 0.79 and up, his blink
0.51-0.63. At 0.5 (back from 0.6) four more of the clips' shut frames were drawn, and two open ones
just after them."""
REOPEN_SCLERA_SHARE = 0.7
"""...until both eyes read at least this share of it again."""
FULL_SCLERA_SHARE = 0.8
"""From this share up the move is whole; from ``SHUT_SCLERA_SHARE`` to here it shrinks in proportion. An eye
narrowed in a smile shows little sclera (woman_expressions.mp4 392-423, her head tilted, read 0.67-0.75):
the fill is fitted to lashes and shade there, and a whole move left a grey slab where the iris had been;
a shorter one leaves a crescent."""
SCLERA_SHARE_SMOOTHING_S = 0.2
"""The share that shortens the move is smoothed over this time: read a frame at a time it moved the iris back
and forth by a pixel or two."""
WIDE_OPEN_OPENNESS = 0.25
"""Readings at this openness and over teach the gate what the face's open eyes show..."""
NARROW_FRAMES = 48
"""...and, once the landmarks have called a face's eyes open (``REOPEN_OPENNESS``) but never wide open for
this many frames (two seconds at 24 fps: eyes that are narrow by nature, or narrowed in a long smile),
readings at ``REOPEN_OPENNESS`` and over do too, so that such a face is not held back for good."""
TYPICAL_OPEN_SCLERA = 0.9
"""What a face's open eyes are taken to show until it has been seen wide open (a face that comes into view
with its eyes shut or covered): the clips' open eyes read 0.69-1.6. A face with darker eyes is held back
for as long as the landmarks do not call its eyes wide open, one frame as a rule."""
OPEN_READINGS_KEPT = 48
OPEN_READING_QUANTILE = 0.8
"""What a face's open eyes show is this quantile of its last ``OPEN_READINGS_KEPT`` wide-open readings (two
seconds at 24 fps): near their top, as what an open eye can show, but a glint off a pair of glasses in a
few of them does not move it. The reading is over the skin's, so a change of light on the face cancels out."""


def pupil_visibility(openness: float) -> float:
    """How much of a pupil the lids leave to see, in [0, 1]: 0 at ``SHUT_OPENNESS``, 1 from ``VISIBLE_OPENNESS``
    up, linear in between. Every locator's confidence is scaled by it."""
    return min(max((openness - SHUT_OPENNESS) / (VISIBLE_OPENNESS - SHUT_OPENNESS), 0.0), 1.0)


def openness_fade(openness: float) -> float:
    """0 at ``CLOSED_OPENNESS`` and below, 1 at ``OPEN_OPENNESS`` and above, smooth in between."""
    x = min(max((openness - CLOSED_OPENNESS) / (OPEN_OPENNESS - CLOSED_OPENNESS), 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def sclera_fade(share: float) -> float:
    """How much of the move a face gets for how much sclera its eyes show, as a share of what its open eyes show:
    0 at ``SHUT_SCLERA_SHARE``, 1 from ``FULL_SCLERA_SHARE`` up, linear between; 1 where unknown (NaN)."""
    if math.isnan(share):
        return 1.0
    return min(max((share - SHUT_SCLERA_SHARE) / (FULL_SCLERA_SHARE - SHUT_SCLERA_SHARE), 0.0), 1.0)


@dataclass
class OpennessGate:
    """Per face: how much of the effect to apply this frame, in [0, 1].

    It drops at once when the eyes close (a blink must never smear a moved iris) and rises over
    ``rise_s`` when they open, from the gate's last value, so the effect never pops in.
    """

    rise_s: float = 0.15
    amount: float = 0.0
    is_open: bool = False
    open_readings: deque[float] = field(default_factory=lambda: deque(maxlen=OPEN_READINGS_KEPT), repr=False)
    """This face's last ``sclera`` readings with its eyes wide open."""
    narrow_frames: int = 0
    """Frames this face's eyes were called open but not wide open, while it had no wide-open reading."""
    sclera_prior: float = TYPICAL_OPEN_SCLERA
    """What open eyes show until this face has been seen wide open (NaN: nothing assumed, as for a photo,
    whose landmarks are fitted to it alone and follow no earlier frame)."""
    steady_share: float = math.nan
    """The share of open that shortens the move (``FULL_SCLERA_SHARE``), smoothed; NaN until one is read."""
    _last_time_s: float | None = field(default=None, repr=False)

    def update(self, openness: float, confidence: float, time_s: float, sclera: float = math.nan) -> float:
        """``openness``, ``confidence`` and ``sclera`` (``sclera_over_skin``; NaN where unknown) are the face's
        worse eye's; returns the amount for this frame."""
        elapsed = 0.0 if self._last_time_s is None else max(time_s - self._last_time_s, 0.0)
        self._last_time_s = time_s
        share = self._share_of_open(openness, sclera)
        if self.is_open:
            self.is_open = (openness >= CLOSED_OPENNESS and confidence >= MIN_CONFIDENCE
                            and not sclera < SHUT_SCLERA and not share < SHUT_SCLERA_SHARE)
        else:
            self.is_open = (openness >= REOPEN_OPENNESS and confidence >= RESUME_CONFIDENCE
                            and not sclera < REOPEN_SCLERA and not share < REOPEN_SCLERA_SHARE)
        if not math.isnan(share):
            self.steady_share = share if math.isnan(self.steady_share) else self.steady_share + (
                1.0 - math.exp(-elapsed / SCLERA_SHARE_SMOOTHING_S)) * (share - self.steady_share)
        goal = openness_fade(openness) * sclera_fade(self.steady_share) if self.is_open else 0.0
        # rise_s 0 (a photo) means no rise: the amount is the openness's at once.
        self.amount = goal if self.rise_s <= 0.0 else min(goal, self.amount + elapsed / self.rise_s)
        return self.amount

    def _share_of_open(self, openness: float, sclera: float) -> float:
        """``sclera`` as a share of what this face's eyes show open: their readings kept where the landmarks
        call them wide open (or, for a face whose eyes stay narrow, open), before the first the prior
        (``sclera_prior``); NaN where the reading or the prior is unknown (a photo)."""
        if math.isnan(sclera):
            return math.nan
        if not self.open_readings and REOPEN_OPENNESS <= openness < WIDE_OPEN_OPENNESS:
            self.narrow_frames += 1
        learning_from = REOPEN_OPENNESS if self.narrow_frames >= NARROW_FRAMES else WIDE_OPEN_OPENNESS
        if openness >= learning_from:
            self.open_readings.append(sclera)
        if not self.open_readings:
            return sclera / self.sclera_prior
        readings = sorted(self.open_readings)
        return sclera / max(readings[int(OPEN_READING_QUANTILE * (len(readings) - 1))], 1e-6)
