import numpy as np
import pytest

from glare.eyes import Eye, upright_crop
from glare.pupils import LandmarkCentroidLocator
from glare.pupils.meanshift import MeanShiftLocator
from tests.conftest import synthetic_eye_frame


@pytest.mark.parametrize(
    "iris_centre, roll_deg",
    [((100.0, 60.0), 0.0), ((88.3, 61.2), 0.0), ((112.6, 59.4), 0.0), ((93.7, 58.1), 12.0), ((108.2, 61.0), -8.0)],
)
def test_meanshift_finds_a_known_iris_centre_to_sub_pixel(iris_centre, roll_deg):
    frame, landmarks = synthetic_eye_frame(iris_centre, roll_deg=roll_deg)
    locator = MeanShiftLocator()
    (pupil,) = locator.locate([upright_crop(frame, Eye("right", landmarks), locator.geometry)])
    assert pupil.found
    assert np.hypot(pupil.centre[0] - iris_centre[0], pupil.centre[1] - iris_centre[1]) < 0.75
    assert pupil.iris_radius_px == pytest.approx(9.0, rel=0.25)


def test_meanshift_beats_the_centroid_on_a_sideways_iris():
    frame, landmarks = synthetic_eye_frame((115.0, 60.0))
    crop = upright_crop(frame, Eye("right", landmarks))
    (shifted,) = MeanShiftLocator().locate([crop])
    (centroid,) = LandmarkCentroidLocator().locate([crop])
    assert abs(shifted.centre[0] - 115.0) < 1.0
    assert abs(centroid.centre[0] - 115.0) > 10.0


@pytest.mark.parametrize("kind", ["uniform", "noise", "closed", "tiny"])
def test_strange_crops_say_not_found_or_stay_inside_the_eye(kind):
    rng = np.random.default_rng(1)
    frame, landmarks = synthetic_eye_frame((100.0, 60.0), eye_half_height=1.5 if kind == "closed" else 11.0)
    if kind == "uniform":
        frame[:] = 128
    elif kind == "noise":
        frame = rng.integers(0, 256, frame.shape, dtype=np.uint8)
    elif kind == "tiny":
        landmarks = (landmarks - landmarks.mean(axis=0)) * 0.05 + landmarks.mean(axis=0)
    (pupil,) = MeanShiftLocator().locate([upright_crop(frame, Eye("right", landmarks))])
    if kind in ("uniform", "closed", "tiny"):
        assert not pupil.found
    x0, y0 = landmarks.min(axis=0) - 2
    x1, y1 = landmarks.max(axis=0) + 2
    assert x0 <= pupil.centre[0] <= x1 and y0 <= pupil.centre[1] <= y1
    assert 0.0 <= pupil.confidence <= 1.0


def test_the_rings_gradient_is_numpys():
    """The iris radii's gradient, written out for speed, gives np.gradient's numbers exactly, ends included."""
    from glare.pupils.meanshift import _gradient_along_rings

    means = np.random.default_rng(3).uniform(0, 255, (5, 16))
    assert np.array_equal(_gradient_along_rings(means), np.gradient(means, axis=1))
