import numpy as np
import pytest

from glare.smoothing import OneEuroFilter, filter_for_strength


def test_still_noisy_points_come_out_steadier():
    rng = np.random.default_rng(0)
    smoother = filter_for_strength(0.6)
    raw = 50.0 + rng.normal(0, 0.5, size=(300, 68, 2))
    out = np.array([smoother(points, i / 30) for i, points in enumerate(raw)])
    raw_jitter = np.sqrt(np.mean(np.diff(raw[100:], axis=0) ** 2))
    out_jitter = np.sqrt(np.mean(np.diff(out[100:], axis=0) ** 2))
    assert out_jitter < raw_jitter / 4


def test_a_move_is_followed_not_lagged_forever():
    smoother = OneEuroFilter(min_cutoff_hz=1.0, beta=0.05)
    for i in range(30):
        smoother(np.array([0.0]), i / 30)
    values = [smoother(np.array([100.0]), (30 + i) / 30)[0] for i in range(15)]
    assert values[-1] == pytest.approx(100.0, abs=1.0)


def test_strength_out_of_range_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        filter_for_strength(1.5)


def test_the_compiled_filter_is_the_papers_formulas():
    """Each element follows Casiez et al.'s One Euro filter exactly, written here in NumPy: the speed low-passed
    at the derivative cut-off, the value at a cut-off that rises with that speed."""
    rng = np.random.default_rng(5)
    samples, times = rng.normal(0.0, 3.0, size=(40, 6, 2)), np.cumsum(rng.uniform(0.01, 0.05, 40))
    smoother = OneEuroFilter(min_cutoff_hz=1.5, beta=0.05, derivative_cutoff_hz=1.0)

    def factor(cutoff, dt):
        return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * cutoff) / dt)

    value, speed = samples[0], np.zeros_like(samples[0])
    assert np.array_equal(smoother(samples[0], times[0]), value)
    for sample, time_s, before in zip(samples[1:], times[1:], times[:-1]):
        dt = time_s - before
        speed = speed + factor(1.0, dt) * ((sample - value) / dt - speed)
        value = value + factor(1.5 + 0.05 * np.abs(speed), dt) * (sample - value)
        assert np.allclose(smoother(sample, time_s), value, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="was given"):
        smoother(np.zeros(3), times[-1] + 1.0)
