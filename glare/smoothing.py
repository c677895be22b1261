"""The One Euro filter (Casiez et al., CHI 2012): still points stay still, fast moves keep up.

It low-passes a signal with a cut-off frequency that rises with the signal's speed, so jitter
on a still face is removed while a turning head is followed without lag.
"""

from __future__ import annotations

import math

import numpy as np


def _smoothing_factor(cutoff_hz, dt: float):
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of any fixed shape, element by element, given each sample's time in seconds."""

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.02, derivative_cutoff_hz: float = 1.0):
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.derivative_cutoff_hz = derivative_cutoff_hz
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def reset(self) -> None:
        self._value = self._speed = self._time = None

    def __call__(self, value: np.ndarray, time_s: float) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._value is None or self._time is None or time_s <= self._time:
            # First sample, or a clock that did not advance: nothing to filter against.
            self._value, self._speed, self._time = value.copy(), np.zeros_like(value), time_s
            return value.copy()
        dt = time_s - self._time
        speed = (value - self._value) / dt
        alpha_speed = _smoothing_factor(self.derivative_cutoff_hz, dt)
        self._speed = self._speed + alpha_speed * (speed - self._speed)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(self._speed)
        alpha = _smoothing_factor(cutoff, dt)
        self._value = self._value + alpha * (value - self._value)
        self._time = time_s
        return self._value.copy()


def filter_for_strength(strength: float) -> OneEuroFilter:
    """A filter for a smoothing strength in [0, 1]: 0 barely smooths, 1 holds still points rock-steady."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"smoothing strength must be between 0 and 1, got {strength}")
    # Cut-off at rest from 8 Hz (almost raw) down to 0.5 Hz; beta keeps fast motion responsive.
    min_cutoff_hz = 8.0 * (0.5 / 8.0) ** strength
    return OneEuroFilter(min_cutoff_hz=min_cutoff_hz, beta=0.05)
