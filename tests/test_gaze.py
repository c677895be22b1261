import dataclasses

import numpy as np
import pytest

from glare.gaze import GazeDirector, GazeSettings


def _offsets(settings, seconds=4.0, fps=30.0, track_id=1):
    director = GazeDirector(settings)
    return np.array([director.gaze(track_id, i / fps).offset for i in range(int(seconds * fps))])


def test_anxious_darting_is_reproducible_with_a_seed_and_varies_without():
    first = _offsets(GazeSettings(effect="anxious", seed=7))
    again = _offsets(GazeSettings(effect="anxious", seed=7))
    other = _offsets(GazeSettings(effect="anxious", seed=8))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_anxious_eyes_dart_to_both_sides_with_short_fixations():
    offsets = _offsets(GazeSettings(effect="anxious", seed=3), seconds=10.0)[:, 0]
    assert offsets.min() < -0.4 and offsets.max() > 0.4
    sides = np.sign(np.where(np.abs(offsets) > 0.3, offsets, 0))
    sides = sides[sides != 0]
    switches = np.count_nonzero(np.diff(sides))
    assert switches >= 10  # more than one dart a second


def test_glare_eases_over_and_holds():
    offsets = _offsets(GazeSettings(effect="glare", direction="right", intensity=0.8), seconds=1.0)[:, 0]
    steps = np.diff(offsets)
    assert offsets[0] == pytest.approx(0.8)  # a new face starts at the target: strength fades in instead
    director = GazeDirector(GazeSettings(effect="glare", direction="left", intensity=0.8))
    director.gaze(1, 0.0)
    director.settings = GazeSettings(effect="glare", direction="right", intensity=0.8)
    moving = np.array([director.gaze(1, i / 30).offset[0] for i in range(1, 30)])
    assert np.all(np.diff(moving) >= 0)
    assert moving[0] < 0.0 < moving[-1]
    assert moving[-1] == pytest.approx(0.8, abs=0.01)
    assert np.all(np.abs(steps) < 1e-9)


def test_alternate_swaps_sides():
    offsets = _offsets(GazeSettings(effect="glare", direction="alternate", alternate_period_s=1.0), seconds=3.0)[:, 0]
    assert offsets[20] < 0 < offsets[50] and offsets[80] < 0


def test_strength_fades_in_for_a_new_face():
    director = GazeDirector(GazeSettings(effect="glare", fade_in_s=0.3))
    strengths = [director.gaze(5, i / 30).strength for i in range(15)]
    assert strengths[0] == 0.0 and strengths[-1] == 1.0
    assert np.all(np.diff(strengths) >= 0)


@pytest.mark.parametrize("bad", [dict(effect="wink"), dict(direction="up"), dict(intensity=1.5), dict(squint=-0.1)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        GazeSettings(**bad)


def test_every_effect_change_eases_including_to_and_from_none():
    director = GazeDirector(GazeSettings(effect="glare", direction="left", intensity=0.8))
    times = iter(np.arange(0.0, 10.0, 1 / 30))
    for _ in range(30):
        glaring = director.gaze(1, next(times))
    assert glaring.offset[0] == pytest.approx(-0.8, abs=0.01) and glaring.strength > 0.99
    director.settings = dataclasses.replace(director.settings, effect="none")
    easing_out = [director.gaze(1, next(times)) for _ in range(30)]
    # The irises slide back over a few frames (never in one), then the effect is off.
    assert -0.8 < easing_out[0].offset[0] < -0.3 and easing_out[0].strength > 0
    assert easing_out[-1].strength == 0.0 and easing_out[-1].offset == (0.0, 0.0)
    director.settings = dataclasses.replace(director.settings, effect="glare")
    easing_in = [director.gaze(1, next(times)) for _ in range(30)]
    assert -0.5 < easing_in[0].offset[0] < 0.0
    assert easing_in[-1].offset[0] == pytest.approx(-0.8, abs=0.01)


def test_a_photo_gets_the_gaze_the_effect_settles_on_at_full_strength():
    glare = GazeDirector(GazeSettings(effect="glare", direction="right", intensity=0.8, squint=0.5)).settled_gaze(1)
    assert glare.offset == (0.8, 0.0) and glare.strength == 1.0 and glare.squint == pytest.approx(0.4)
    anxious = [GazeDirector(GazeSettings(effect="anxious", seed=seed)).settled_gaze(1) for seed in range(20)]
    assert all(gaze.strength == 1.0 and abs(gaze.offset[0]) >= 0.6 * 0.85 for gaze in anxious)
    assert {gaze.offset[0] > 0 for gaze in anxious} == {True, False}, "glances go either way, by seed"
    assert GazeDirector(GazeSettings(effect="none")).settled_gaze(1).strength == 0.0
