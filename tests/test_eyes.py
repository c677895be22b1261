import numpy as np
import pytest

from glare.eyes import CropGeometry, Eye, apply_affine, eyes_from_landmarks, upright_crop
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
