"""The openness gate: blinks stop the effect at once, it comes back eased, and never flickers."""

import cv2
import numpy as np
import pytest

from glare.openness import CLOSED_OPENNESS, OPEN_OPENNESS, REOPEN_OPENNESS, OpennessGate, openness_fade


def test_fade_runs_from_closed_to_open():
    assert openness_fade(CLOSED_OPENNESS - 0.01) == 0.0
    assert openness_fade(OPEN_OPENNESS + 0.01) == 1.0
    middle = openness_fade((CLOSED_OPENNESS + OPEN_OPENNESS) / 2)
    assert 0.0 < middle < 1.0


def test_a_blink_stops_the_effect_in_the_same_frame():
    gate = OpennessGate()
    for index in range(20):
        gate.update(0.3, 0.9, index / 30)
    assert gate.amount == pytest.approx(1.0)
    assert gate.update(CLOSED_OPENNESS - 0.02, 0.9, 20 / 30) == 0.0


def test_the_threshold_does_not_flicker():
    gate = OpennessGate()
    for index in range(20):
        gate.update(0.3, 0.9, index / 30)
    # Openness jittering across the closed threshold: once closed, the gate stays shut...
    jitter = [CLOSED_OPENNESS - 0.005, CLOSED_OPENNESS + 0.005] * 15
    amounts = [gate.update(value, 0.9, (20 + i) / 30) for i, value in enumerate(jitter)]
    assert amounts[0] == 0.0
    assert max(amounts) == 0.0
    # ...until the eyes are clearly open again, and then it eases back in over several frames.
    rising = [gate.update(REOPEN_OPENNESS + 0.06, 0.9, (50 + i) / 30) for i in range(10)]
    assert rising[0] < 0.3 and np.all(np.diff(rising) >= 0) and rising[-1] > 0.6


def test_an_unsure_pupil_stops_the_effect_with_hysteresis():
    gate = OpennessGate()
    for index in range(20):
        gate.update(0.3, 0.9, index / 30)
    assert gate.update(0.3, 0.1, 20 / 30) == 0.0
    assert gate.update(0.3, 0.25, 21 / 30) == 0.0
    assert gate.update(0.3, 0.5, 22 / 30) > 0.0


def test_every_locator_trusts_a_pupil_by_the_same_openness():
    """One visibility ramp for every locator: a nearly shut eye's pupil has no confidence from any of them."""
    from glare.eyes import Eye, upright_crop
    from glare.openness import SHUT_OPENNESS, VISIBLE_OPENNESS, pupil_visibility
    from glare.pupils import make_locator

    assert pupil_visibility(SHUT_OPENNESS) == 0.0 and pupil_visibility(VISIBLE_OPENNESS) == 1.0
    assert SHUT_OPENNESS < CLOSED_OPENNESS < VISIBLE_OPENNESS <= REOPEN_OPENNESS < OPEN_OPENNESS
    frame = np.full((120, 160, 3), 210, np.uint8)
    cv2.circle(frame, (80, 60), 9, (40, 40, 40), -1)
    for openness, expect_confidence in ((0.05, False), (0.3, True)):
        half_height = openness * 60 / 2  # the lid gap over the 60 px width is the openness
        contour = np.array([[50, 60], [70, 60 - half_height], [90, 60 - half_height], [110, 60],
                            [90, 60 + half_height], [70, 60 + half_height]], np.float64)
        eye = Eye("right", contour)
        for name in ("model", "meanshift"):
            locator = make_locator(name)
            [pupil] = locator.locate([upright_crop(frame, eye, locator.geometry)])
            assert eye.openness == pytest.approx(openness)
            assert (pupil.confidence > 0.0) == expect_confidence, (name, eye.openness)


def test_an_eye_that_shows_no_sclera_stops_the_effect_with_hysteresis():
    """Landmarks that call a shut eye open (behind a hand, as a blink starts) do not start or keep the
    effect where the image shows no sclera in the opening: none at all, or, for a face seen wide open,
    far less than its open eyes showed."""
    from glare.openness import REOPEN_SCLERA, REOPEN_SCLERA_SHARE, SHUT_SCLERA, SHUT_SCLERA_SHARE

    gate = OpennessGate()
    # A face never seen open: only a reading with no sclera at all keeps the effect off.
    assert gate.update(0.3, 0.9, 0.0, sclera=SHUT_SCLERA - 0.05) == 0.0
    assert gate.update(0.3, 0.9, 1 / 30, sclera=REOPEN_SCLERA + 0.05) > 0.0
    for index in range(2, 20):
        gate.update(0.3, 0.9, index / 30, sclera=1.0)
    assert gate.amount == pytest.approx(1.0)
    # Seen wide open at 1.0: a reading under half of that is a shut eye...
    assert gate.update(0.3, 0.9, 20 / 30, sclera=SHUT_SCLERA_SHARE - 0.05) == 0.0
    # ...which stays shut between the two shares, and opens again once the sclera shows.
    assert gate.update(0.3, 0.9, 21 / 30, sclera=(SHUT_SCLERA_SHARE + REOPEN_SCLERA_SHARE) / 2) == 0.0
    assert gate.update(0.3, 0.9, 22 / 30, sclera=REOPEN_SCLERA_SHARE + 0.05) > 0.0
    # Where the image cannot tell (too little of the eye in the frame), the landmarks decide.
    assert gate.update(0.3, 0.9, 23 / 30, sclera=float("nan")) > 0.0


def test_the_sclera_check_tells_an_open_eye_from_a_shut_one_the_landmarks_call_open():
    from glare.eyes import Eye, EyeShape
    from glare.openness import REOPEN_SCLERA, SHUT_SCLERA, SHUT_SCLERA_SHARE
    from glare.sclera_check import sclera_over_skin
    from tests.conftest import synthetic_eye_frame

    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    eye = Eye("right", landmarks)
    shape = EyeShape.of(eye)
    open_reading = sclera_over_skin(frame, eye, shape, np.array([100.0, 60.0]), 9.0)
    assert open_reading > REOPEN_SCLERA
    # The same landmarks (an opening 22 px high) on a shut eye: the lid's crease in shade above the dark
    # band of lashes where the lids meet, as a hand's pressure or a starting blink leaves the points.
    shut = np.full_like(frame, 170)
    shut[46:58] = 95
    shut[58:74] = 35
    assert sclera_over_skin(shut, eye, shape, np.array([100.0, 60.0]), 9.0) < SHUT_SCLERA_SHARE * open_reading
    # No sclera at all (a dark band of lashes where the points say the opening is).
    shut[46:74] = 35
    assert sclera_over_skin(shut, eye, shape, np.array([100.0, 60.0]), 9.0) < SHUT_SCLERA


def test_a_face_with_dark_narrow_eyes_is_measured_against_itself():
    """Dark irises that fill a narrow opening show little sclera: such a face, never called wide open, is
    held back at first (against what open eyes show as a rule), then judged by its own eyes."""
    from glare.openness import NARROW_FRAMES, REOPEN_SCLERA, TYPICAL_OPEN_SCLERA, REOPEN_SCLERA_SHARE

    reading = REOPEN_SCLERA + 0.05
    assert reading < REOPEN_SCLERA_SHARE * TYPICAL_OPEN_SCLERA
    gate = OpennessGate()
    amounts = [gate.update(0.21, 0.9, index / 24, sclera=reading) for index in range(NARROW_FRAMES + 24)]
    assert max(amounts[: NARROW_FRAMES - 1]) == 0.0
    assert amounts[-1] == pytest.approx(openness_fade(0.21))
    # A photo assumes nothing of open eyes: it is judged by its own reading alone.
    photo = OpennessGate(rise_s=0.0, sclera_prior=float("nan"))
    assert photo.update(0.21, 0.9, 0.0, sclera=reading) > 0.0


def test_an_eye_that_shows_little_sclera_gets_a_shorter_move_that_changes_smoothly():
    """A face whose eyes show less sclera than they do open, but not so little that they read as shut (an eye
    narrowed in a smile), gets a shorter move: the fill is fitted to lashes and shade there. The move shrinks
    and comes back gradually, never by a jump, and a photo (nothing known of its open eyes) is not held back."""
    from glare.openness import FULL_SCLERA_SHARE, SHUT_SCLERA_SHARE, sclera_fade

    assert sclera_fade(SHUT_SCLERA_SHARE) == 0.0 and sclera_fade(FULL_SCLERA_SHARE) == 1.0
    assert sclera_fade(float("nan")) == 1.0
    narrowed = (SHUT_SCLERA_SHARE + FULL_SCLERA_SHARE) / 2
    gate = OpennessGate()
    for index in range(20):
        gate.update(0.3, 0.9, index / 24, sclera=1.0)
    assert gate.amount == pytest.approx(1.0)
    shrinking = [gate.update(0.3, 0.9, (20 + index) / 24, sclera=narrowed) for index in range(24)]
    assert np.all(np.diff(shrinking) <= 0) and np.max(np.abs(np.diff(shrinking))) < 0.1
    assert shrinking[-1] == pytest.approx(sclera_fade(narrowed), abs=0.05)
    # Wide open again, the move comes back at the gate's own fade-in rate, as after a blink.
    growing = [gate.update(0.3, 0.9, (44 + index) / 24, sclera=1.0) for index in range(24)]
    steps = np.diff([shrinking[-1], *growing])
    assert np.all(steps >= 0) and np.max(steps) <= (1 / 24) / gate.rise_s + 1e-9 and growing[-1] == pytest.approx(1.0)
    photo = OpennessGate(rise_s=0.0, sclera_prior=float("nan"))
    assert photo.update(0.3, 0.9, 0.0, sclera=narrowed) == pytest.approx(1.0)
