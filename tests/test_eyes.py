import numpy as np
import pytest

from glare.eyes import CropGeometry, Eye, EyeShape, apply_affine, eyes_from_landmarks, upright_crop
from tests.conftest import synthetic_eye_frame


def test_eyes_are_named_by_the_person():
    landmarks = np.arange(68 * 2, dtype=float).reshape(68, 2)
    right, left = eyes_from_landmarks(landmarks)
    assert right.side == "right" and np.array_equal(right.contour, landmarks[36:42])
    assert left.side == "left" and np.array_equal(left.contour, landmarks[42:48])


@pytest.mark.parametrize("roll_deg", [0.0, 17.0, -25.0])
def test_upright_crop_levels_the_corners_and_maps_back(roll_deg):
    frame, landmarks = synthetic_eye_frame((100, 60), roll_deg=roll_deg)
    geometry = CropGeometry()
    crop = upright_crop(frame, Eye("right", landmarks), geometry)
    left, right = crop.contour[0], crop.contour[3]
    assert crop.image.shape == (geometry.height, geometry.width)
    assert abs(left[1] - right[1]) < 1e-6
    assert np.linalg.norm(right - left) == pytest.approx(geometry.scale_reference)
    assert np.allclose(apply_affine(crop.to_frame, crop.contour), landmarks)
    # The crop is centred on the eye.
    assert np.allclose(crop.contour.mean(axis=0), [(geometry.width - 1) / 2, (geometry.height - 1) / 2])


def test_openness_tells_open_from_closed():
    _, open_eye = synthetic_eye_frame((100, 60), eye_half_height=11)
    _, closed_eye = synthetic_eye_frame((100, 60), eye_half_height=1.5)
    assert Eye("left", open_eye).openness > 0.25
    assert Eye("left", closed_eye).openness < 0.08


@pytest.mark.parametrize("roll_deg", [0.0, 25.0])
def test_the_eye_shape_passes_through_its_landmarks_and_knows_its_widest_opening(roll_deg):
    _, landmarks = synthetic_eye_frame((100.0, 60.0), roll_deg=roll_deg)
    # A lopsided eye: the lower lid sags toward one corner, so the widest gap is off the middle.
    landmarks = landmarks.copy()
    landmarks[4] += (0.0, 3.0)
    shape = EyeShape.of(Eye("right", landmarks))
    for index in (1, 2, 4, 5):
        u, v = shape.to_eye(landmarks[index])
        upper, lower = shape.lids(np.array([u]))
        assert v == pytest.approx(float((upper if index < 3 else lower)[0]), abs=0.05)
    u = np.linspace(-1.0, 1.0, 20001)
    upper, lower = shape.lids(u)
    assert shape.max_opening_px == pytest.approx(float(np.max(lower - upper)), abs=1e-3)
