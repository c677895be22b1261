"""Eye openness, and every threshold on it, in one place.

Openness is the lid gap over the corner-to-corner width (``Eye.openness``, from the six eye
landmarks): about 0.3 for an open eye, under 0.15 in a blink. Two things depend on it:

- **How much a locator trusts a pupil it found** (``pupil_visibility``): nothing below
  ``SHUT_OPENNESS`` (the lids cover the pupil), fully from ``VISIBLE_OPENNESS`` up.
- **Whether and how much the effect moves a face's irises** (``OpennessGate``): decided per face,
  from the less open eye, so both eyes move together or neither does; never below
  ``CLOSED_OPENNESS``; fading with openness up to ``OPEN_OPENNESS`` so a half-closed eye gets a
  smaller move; with hysteresis so it does not flicker at the threshold. And never where the
  image shows no sclera in what the landmarks call the opening (``SHUT_SCLERA``,
  ``glare.sclera_check``): the landmarks read eyes shut behind a hand, and eyes starting to blink,
  as open.
"""

from __future__ import annotations

import math

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
SHUT_SCLERA = 0.6
"""An eye whose opening at its brightest is darker than this share of the skin below it shows no sclera
(``glare.sclera_check.sclera_over_skin``): it is shut or covered, whatever its landmarks say, and the
effect stops. On woman_expressions.mp4 (search on the frame's thread) open eyes at openness 0.2 and over
read 0.69 and up (a tilted, narrowed eye in shade; 0.54 once as a blink began), the shut eyes behind a
hand 0.27-0.45, half-blinks 0.28-0.57 (0.61 and 0.66 once each); man_webcam.mp4's open eyes 0.79 and
up, its blink 0.51-0.63."""
REOPEN_SCLERA = 0.65
"""...until both eyes' openings are at least this bright again."""


def pupil_visibility(openness: float) -> float:
    """How much of a pupil the lids leave to see, in [0, 1]: 0 at ``SHUT_OPENNESS``, 1 from ``VISIBLE_OPENNESS``
    up, linear in between. Every locator's confidence is scaled by it."""
    return min(max((openness - SHUT_OPENNESS) / (VISIBLE_OPENNESS - SHUT_OPENNESS), 0.0), 1.0)


def openness_fade(openness: float) -> float:
    """0 at ``CLOSED_OPENNESS`` and below, 1 at ``OPEN_OPENNESS`` and above, smooth in between."""
    x = min(max((openness - CLOSED_OPENNESS) / (OPEN_OPENNESS - CLOSED_OPENNESS), 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass
class OpennessGate:
    """Per face: how much of the effect to apply this frame, in [0, 1].

    It drops at once when the eyes close (a blink must never smear a moved iris) and rises over
    ``rise_s`` when they open, from the gate's last value, so the effect never pops in.
    """

    rise_s: float = 0.15
    amount: float = 0.0
    is_open: bool = False
    _last_time_s: float | None = field(default=None, repr=False)

    def update(self, openness: float, confidence: float, time_s: float, sclera: float = math.nan) -> float:
        """``openness``, ``confidence`` and ``sclera`` (``sclera_over_skin``; NaN where unknown) are the face's
        worse eye's; returns the amount for this frame."""
        if self.is_open:
            self.is_open = (openness >= CLOSED_OPENNESS and confidence >= MIN_CONFIDENCE
                            and not sclera < SHUT_SCLERA)
        else:
            self.is_open = (openness >= REOPEN_OPENNESS and confidence >= RESUME_CONFIDENCE
                            and not sclera < REOPEN_SCLERA)
        goal = openness_fade(openness) if self.is_open else 0.0
        elapsed = 0.0 if self._last_time_s is None else max(time_s - self._last_time_s, 0.0)
        self._last_time_s = time_s
        # rise_s 0 (a photo) means no rise: the amount is the openness's at once.
        self.amount = goal if self.rise_s <= 0.0 else min(goal, self.amount + elapsed / self.rise_s)
        return self.amount
