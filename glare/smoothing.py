"""The One Euro filter (Casiez et al., CHI 2012): still points stay still, fast moves keep up.

It low-passes a signal with a cut-off frequency that rises with the signal's speed, so jitter
on a still face is removed while a turning head is followed without lag.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import register_jitable


@register_jitable
def _smoothing_factor(cutoff_hz: float, dt: float) -> float:
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
            self._value, self._time = np.array(value, order="C"), time_s
            self._speed = np.zeros_like(self._value)
            return value.copy()
        if value.shape != self._value.shape:
            raise ValueError(f"a filter of {self._value.shape} values was given {value.shape}")
        _step(np.ascontiguousarray(value).reshape(-1), self._value.reshape(-1), self._speed.reshape(-1),
              time_s - self._time, self.min_cutoff_hz, self.beta, self.derivative_cutoff_hz)
        self._time = time_s
        return self._value.copy()


@njit(cache=True)
def _step(value: np.ndarray, smoothed: np.ndarray, speed: np.ndarray, dt: float, min_cutoff_hz: float, beta: float,
          derivative_cutoff_hz: float) -> None:
    """One sample into ``smoothed`` and ``speed`` (changed in place), element by element. Compiled: the
    filter runs three times a frame on a face (its landmarks, both pupils), and its dozen NumPy calls on a
    few numbers cost 10-40 us each time."""
    alpha_speed = _smoothing_factor(derivative_cutoff_hz, dt)
    for index in range(value.shape[0]):
        speed[index] = speed[index] + alpha_speed * ((value[index] - smoothed[index]) / dt - speed[index])
        alpha = _smoothing_factor(min_cutoff_hz + beta * abs(speed[index]), dt)
        smoothed[index] = smoothed[index] + alpha * (value[index] - smoothed[index])


def warm_up() -> None:
    """Load the compiled step from Numba's disk cache (or compile it, once per install), so that the first
    face's second frame does not wait for it."""
    smoother = OneEuroFilter()
    for time_s in (0.0, 1.0):
        smoother(np.zeros((68, 2)), time_s)


def filter_for_strength(strength: float) -> OneEuroFilter:
    """A filter for a smoothing strength in [0, 1]: 0 barely smooths, 1 holds still points rock-steady."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"smoothing strength must be between 0 and 1, got {strength}")
    # Cut-off at rest from 8 Hz (almost raw) down to 0.5 Hz; beta keeps fast motion responsive.
    min_cutoff_hz = 8.0 * (0.5 / 8.0) ** strength
    return OneEuroFilter(min_cutoff_hz=min_cutoff_hz, beta=0.05)
