"""The labelling state and the label file, without a window."""

import json

import cv2
import numpy as np
import pytest

from glare.labeler.labels import LabelFileError, open_label_file, read_label_file
from glare.labeler.session import HAND, LabellingSession


@pytest.fixture()
def folder(tmp_path):
    for index in range(4):
        cv2.imwrite(str(tmp_path / f"face_{index}.png"), np.full((40, 64, 3), 60 * index, np.uint8))
    return tmp_path


def _session(folder, predictor=None, point_set="pupils"):
    images = sorted(folder.glob("*.png"))
    return LabellingSession(images, open_label_file(folder / "labels.json", point_set), predictor, "test",
                            log=lambda message: None)


def _predict(path):
    return {"right_pupil": (10.0, 20.0), "left_pupil": (50.0, 21.0)}


def test_predictions_prefill_and_are_saved_only_once_touched(folder):
    session = _session(folder, _predict)
    assert {name: p.source for name, p in session.points().items()} == {"right_pupil": "test", "left_pupil": "test"}
    assert not (folder / "labels.json").exists()
    session.set_point("left_pupil", (48.5, 19.25))
    saved = json.loads((folder / "labels.json").read_text())["images"]["face_0.png"]
    assert saved["points"]["left_pupil"]["xy"] == [48.5, 19.25]
    assert saved["points"]["left_pupil"]["source"] == HAND
    assert saved["points"]["right_pupil"]["source"] == "test"
    assert saved["confirmed"] is False


def test_confirm_needs_every_point_and_moves_progress(folder):
    session = _session(folder)
    session.set_point("right_pupil", (12, 20))
    assert not session.confirm()
    session.set_point("left_pupil", (50, 20))
    assert session.confirm()
    assert session.progress().confirmed == 1 and session.progress().total == 4
    labels = read_label_file(folder / "labels.json")
    assert labels.images["face_0.png"].confirmed and labels.images["face_0.png"].confirmed_at


def test_undo_and_clear(folder):
    session = _session(folder, _predict)
    session.set_point("right_pupil", (11, 19))
    session.set_point("right_pupil", (13, 18))
    assert session.undo()
    assert session.points()["right_pupil"].xy == (11.0, 19.0)
    session.clear()
    assert session.points() == {}
    assert session.undo()
    assert session.points()["right_pupil"].xy == (11.0, 19.0)
    assert session.undo()
    # Back to the untouched state: the prediction shows again and the file holds no entry for it.
    assert session.points()["right_pupil"].source == "test"
    assert "face_0.png" not in read_label_file(folder / "labels.json").images
    assert not session.undo()


def test_moving_a_confirmed_point_unconfirms_the_image(folder):
    session = _session(folder, _predict)
    session.confirm()
    session.go(0)
    session.set_point("left_pupil", (40, 20))
    assert not session.is_confirmed()


def test_navigation_and_resume_at_first_unconfirmed(folder):
    session = _session(folder, _predict)
    session.previous()
    assert session.index == 0
    session.confirm()
    session.next()
    session.confirm()
    session.next()
    session.next()
    session.next()
    assert session.index == 3
    session.go(0)
    session.jump_to_unconfirmed()
    assert session.index == 2
    resumed = _session(folder, _predict)
    assert resumed.index == 2
    assert resumed.progress().confirmed == 2


def test_unreadable_images_are_skipped_and_not_counted(folder):
    session = _session(folder)
    session.go(1)
    session.mark_unreadable()
    assert session.index == 2
    session.previous()
    assert session.index == 0
    assert session.progress().total == 3


def test_an_existing_file_is_never_wiped_and_a_bad_one_is_refused(folder):
    session = _session(folder, _predict)
    session.confirm()
    before = (folder / "labels.json").read_text()
    again = _session(folder, _predict)
    assert again.is_confirmed(0)
    assert (folder / "labels.json").read_text() == before
    (folder / "labels.json").write_text('{"images": ')
    with pytest.raises(LabelFileError, match="not valid JSON"):
        open_label_file(folder / "labels.json", "pupils")
    assert (folder / "labels.json").read_text() == '{"images": '
    (folder / "labels.json").write_text(before)
    with pytest.raises(LabelFileError, match="--points pupils"):
        open_label_file(folder / "labels.json", "eye")


def test_a_point_outside_the_set_is_refused(folder):
    session = _session(folder, point_set="pupil")
    with pytest.raises(ValueError, match="not a point of set"):
        session.set_point("right_pupil", (1, 1))


def test_describe_prints_points_and_state(folder):
    session = _session(folder, _predict)
    session.set_point("right_pupil", (11, 19))
    text = session.describe()
    assert "face_0.png (not confirmed)" in text and "right_pupil=(11.0, 19.0) [hand]" in text


def test_predictors_for_faces_and_for_eye_crops(tmp_path):
    from pathlib import Path

    from conftest import synthetic_eye_frame
    from glare.labeler.predict import make_predictor

    astronaut = Path(__file__).resolve().parent.parent / "glare" / "assets" / "astronaut.jpg"
    face_points = make_predictor("meanshift", "pupils")(astronaut)
    assert set(face_points) == {"right_pupil", "left_pupil"}
    assert face_points["right_pupil"][0] < face_points["left_pupil"][0], "the person's right eye is on the image's left"

    frame, landmarks = synthetic_eye_frame((104.0, 60.0))
    crop_path = tmp_path / "eye.png"
    cv2.imwrite(str(crop_path), frame[30:90, 52:148])  # an eye crop of 96x60, the eye across its middle
    crop_points = make_predictor("model", "eye")(crop_path)
    assert set(crop_points) == {"pupil", "corner_image_left", "corner_image_right"}
    assert crop_points["corner_image_left"][0] < crop_points["pupil"][0] < crop_points["corner_image_right"][0]
    assert make_predictor("none", "eye") is None


def test_the_window_maps_clicks_and_magnifies_round_the_cursor(tmp_path):
    from glare.labeler.window import MAGNIFIER_PX, LabelWindow

    image = np.zeros((300, 400, 3), np.uint8)
    image[80, 57] = (255, 255, 255)
    cv2.imwrite(str(tmp_path / "face.png"), image)
    session = LabellingSession([tmp_path / "face.png"], open_label_file(tmp_path / "labels.json", "pupils"),
                               log=lambda message: None)
    window = LabelWindow(session, log=lambda message: None)
    assert window._load_current()
    u, v = window.to_screen((57, 80))
    assert window.to_image(u, v) == pytest.approx((57, 80), abs=0.5 / window.zoom + 1e-9)
    window.on_mouse(cv2.EVENT_MOUSEMOVE, u, v, 0)
    canvas = window.render()
    middle = MAGNIFIER_PX // 2
    inset = canvas[:MAGNIFIER_PX, canvas.shape[1] - MAGNIFIER_PX:]
    assert inset[middle + 2, middle + 2].min() == 255, "the magnifier shows the bright pixel under the cursor"
    window.on_mouse(cv2.EVENT_LBUTTONDOWN, u, v, cv2.EVENT_FLAG_LBUTTON)
    window.on_mouse(cv2.EVENT_LBUTTONUP, u, v, 0)
    assert session.points()["right_pupil"].xy == pytest.approx((57, 80), abs=0.5)
