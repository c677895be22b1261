"""The effect on pixels: pass-through, changes confined to the eyes, the iris where it was sent, steadiness."""

import cv2
import numpy as np
import pytest

from glare.capture import VideoFileSource
from glare.engine import Engine, EngineSettings
from glare.eyes import Eye
from glare.gaze import Gaze, GazeSettings
from glare.render import eye_region, iris_target, move_iris
from tests.conftest import synthetic_eye_frame


@pytest.fixture(scope="module")
def woman_frames(woman_video):
    source = VideoFileSource(woman_video)
    frames = {c.index: c for c in source.frames() if c.index in range(280, 320)}
    source.close()
    return [frames[i] for i in sorted(frames)]


def test_effect_none_passes_frames_through(woman_frames):
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="none")))
    for captured in woman_frames[:10]:
        output, result = engine.process(captured.image, captured.time_s)
        assert result.faces
        assert np.array_equal(output, captured.image)


def test_glare_changes_pixels_only_inside_the_dilated_eyes(woman_frames):
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare", squint=0.6)))
    changed_somewhere = False
    for captured in woman_frames:
        output, result = engine.process(captured.image, captured.time_s)
        allowed = np.zeros(captured.image.shape[:2], np.uint8)
        for face in result.faces:
            for eye_result in face.eyes:
                eye = eye_result.eye
                cv2.fillPoly(allowed, [np.round(eye.contour).astype(np.int32)], 255)
                margin = int(np.ceil(0.5 * eye.width_px))
                allowed = np.maximum(allowed, cv2.dilate(
                    cv2.fillPoly(np.zeros_like(allowed), [np.round(eye.contour).astype(np.int32)], 255),
                    cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))))
        changed = np.any(output != captured.image, axis=2)
        changed_somewhere |= changed.any()
        assert not (changed & (allowed == 0)).any()
    assert changed_somewhere


@pytest.mark.parametrize("source, target", [((100.0, 60.0), (90.0, 60.0)), ((96.0, 60.5), (108.3, 59.6)),
                                            ((103.0, 59.0), (93.4, 61.2))])
def test_the_rendered_iris_lands_on_its_target(source, target):
    frame, landmarks = synthetic_eye_frame(source, iris_radius=7.0)
    eye = Eye("right", landmarks)
    output = frame.copy()
    assert move_iris(output, eye, np.array(source), 7.0, np.array(target))
    gray = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(float)
    darkness = np.clip(160 - gray, 0, None)
    ys, xs = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    centre = np.array([(xs * darkness).sum(), (ys * darkness).sum()]) / darkness.sum()
    assert np.hypot(*(centre - target)) < 1.0
    # No ghost of the old iris: where it was, and the new one is not, is sclera-bright now.
    away = np.hypot(xs - source[0], ys - source[1]) < 3
    if np.hypot(source[0] - target[0], source[1] - target[1]) > 10:
        assert gray[away].mean() > 180


def test_nothing_changes_outside_the_eye_region():
    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    eye = Eye("right", landmarks)
    output = frame.copy()
    move_iris(output, eye, np.array([100.0, 60.0]), 9.0, np.array([85.0, 60.0]), squint=1.0)
    x0, y0, x1, y1 = eye_region(eye, frame.shape)
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(output[outside], frame[outside])
    assert not np.array_equal(output, frame)


def test_full_glare_puts_the_iris_near_the_corner_and_keeps_its_height():
    _, landmarks = synthetic_eye_frame((100.0, 60.0))
    eye = Eye("right", landmarks)
    target = iris_target(eye, np.array([100.0, 61.0]), 9.0, Gaze((-1.0, 0.0), 1.0, 0.0))
    assert target[0] == pytest.approx(70.0 + 0.8 * 9.0, abs=0.01)
    assert target[1] == pytest.approx(61.0, abs=0.01)
    halfway = iris_target(eye, np.array([100.0, 61.0]), 9.0, Gaze((-1.0, 0.0), 0.5, 0.0))
    assert halfway[0] == pytest.approx((100.0 + target[0]) / 2, abs=0.01)


def test_the_iris_is_steady_on_a_still_face(woman_frames):
    rng = np.random.default_rng(0)
    still = woman_frames[20].image
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare")))
    targets = []
    for index in range(90):
        noisy = np.clip(still + rng.normal(0, 2.0, still.shape), 0, 255).astype(np.uint8)
        _, result = engine.process(noisy, index / 30)
        targets.append([eye.iris.target for eye in result.faces[0].eyes])
    steady = np.array(targets[30:])
    rms = np.sqrt(np.mean(np.sum(np.diff(steady, axis=0) ** 2, axis=-1)))
    assert rms <= 0.3


def test_a_newly_found_face_starts_from_its_real_gaze(woman_frames):
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare")))
    _, result = engine.process(woman_frames[0].image, 0.0)
    for eye in result.faces[0].eyes:
        assert np.allclose(eye.iris.target, eye.iris.source)
