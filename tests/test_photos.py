"""Photos: the flat API (glare.find_pupils, glare.apply_effect), glare apply, and folders of photos in glare run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import glare
from glare.cli import main
from glare.demo import portrait
from glare.eyes import eyes_from_landmarks, upright_crop
from glare.faces import FaceFinder
from glare.pupils import make_locator
from glare.runner import RunSettings, Session


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return portrait()


def _eye_boxes(face: glare.FacePupils, margin: float) -> list[tuple[int, int, int, int]]:
    """Each eye's landmark box grown by ``margin`` eye widths on every side."""
    boxes = []
    for points in (face.landmarks[36:42], face.landmarks[42:48]):
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        grow = margin * (x1 - x0)
        boxes.append((int(x0 - grow), int(y0 - grow), int(np.ceil(x1 + grow)), int(np.ceil(y1 + grow))))
    return boxes


def test_find_pupils_gives_the_model_locators_pupils_in_image_pixels(photo):
    faces = glare.find_pupils(photo)
    assert len(faces) == 1
    face = faces[0]
    # The same steps by hand: the photo's face, its eyes from the landmarks, the model on their crops.
    [found] = FaceFinder().find(photo)
    locator = make_locator("model")
    by_hand = locator.locate([upright_crop(photo, eye, locator.geometry) for eye in eyes_from_landmarks(found.landmarks)])
    for pupil, expected in zip((face.right_eye, face.left_eye), by_hand):
        assert np.hypot(pupil.centre[0] - expected.centre[0], pupil.centre[1] - expected.centre[1]) <= 2.0
        assert pupil.confidence > 0.3
    # The person's right eye is on the image's left, inside the face's box.
    assert face.right_eye.centre[0] < face.left_eye.centre[0]
    left, top, right, bottom = face.box
    assert all(left < pupil.centre[0] < right and top < pupil.centre[1] < bottom for pupil in (face.right_eye, face.left_eye))


def test_find_pupils_takes_gray_photos_and_refuses_what_is_not_an_image(photo):
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    [face] = glare.find_pupils(gray)
    assert face.right_eye.confidence > 0.3
    with pytest.raises(ValueError, match="BGR uint8"):
        glare.find_pupils(photo.astype(np.float32))


def test_apply_effect_changes_the_eyes_only_at_the_photos_size(photo):
    output = glare.apply_effect(photo, "glare", direction="left")
    assert output.shape == photo.shape and output.dtype == np.uint8
    changed = np.abs(output.astype(int) - photo).max(axis=2) > 0
    [face] = glare.find_pupils(photo)
    near_eyes = np.zeros_like(changed)
    for x0, y0, x1, y1 in _eye_boxes(face, 0.6):
        near_eyes[max(y0, 0):y1, max(x0, 0):x1] = True
    assert not (changed & ~near_eyes).any(), "pixels away from the eyes changed"
    # At full strength on one photo: each eye visibly moved, not a fade-in's first frame.
    for x0, y0, x1, y1 in _eye_boxes(face, 0.0):
        assert changed[y0:y1, x0:x1].mean() > 0.2
    # The iris went left (as seen): the dark of the eye's middle row moved toward the image's left.
    for pupil in (face.right_eye, face.left_eye):
        x, y = (int(round(v)) for v in pupil.centre)
        row_before = photo[y, x - 15:x + 16].mean(axis=1)
        row_after = output[y, x - 15:x + 16].mean(axis=1)
        assert np.argmin(row_after) < np.argmin(row_before)
    assert np.array_equal(glare.apply_effect(photo, "none"), photo)


def test_glare_apply_round_trips_odd_sized_photos_in_their_own_format(tmp_path, photo):
    odd = photo[40:40 + 301, 150:150 + 247]  # the face whole, at an odd width and height
    bgra = np.dstack([odd, np.full(odd.shape[:2], 200, np.uint8)])
    cv2.imwrite(str(tmp_path / "odd.jpg"), odd)
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    cv2.imwrite(str(tmp_path / "gray.png"), cv2.cvtColor(odd, cv2.COLOR_BGR2GRAY))
    (tmp_path / "notes.jpg").write_text("not a photo")
    out = tmp_path / "out"
    assert main(["apply", str(tmp_path), "--out", str(out), "--direction", "right"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["alpha.png", "gray.png", "odd.jpg"]
    for name, original in (("odd.jpg", odd), ("alpha.png", bgra), ("gray.png", None)):
        written = cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED)
        assert written.shape[:2] == (301, 247)
        if original is not None:
            assert written.shape == original.shape
    written = cv2.imread(str(out / "alpha.png"), cv2.IMREAD_UNCHANGED)
    assert (written[:, :, 3] == 200).all(), "the alpha channel is kept"
    assert cv2.imread(str(out / "gray.png"), cv2.IMREAD_UNCHANGED).ndim == 2
    assert not np.array_equal(written[:, :, :3], odd), "the effect was applied"


def test_glare_apply_keeps_existing_files_unless_told(tmp_path, photo, capsys):
    source = tmp_path / "me.png"
    cv2.imwrite(str(source), photo)
    target = tmp_path / "side-eye.png"
    target.write_bytes(b"keep me")
    assert main(["apply", str(source), "-o", str(target)]) == 2
    assert "already exist" in capsys.readouterr().err and target.read_bytes() == b"keep me"
    assert main(["apply", str(source), "-o", str(target), "--overwrite"]) == 0
    assert cv2.imread(str(target)).shape == photo.shape
    assert main(["apply", str(source), str(source), "-o", str(tmp_path / "x.png")]) == 2
    assert "-o names one output file" in capsys.readouterr().err


def test_a_folder_of_photos_runs_as_independent_stills(tmp_path, photo):
    """A folder mixing photos, a text file named .jpg and an empty file: the photos each get the full
    effect, exactly as on their own; the two broken files are skipped and counted."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shifted = np.roll(photo, (60, -90), axis=(0, 1))  # the face elsewhere: nothing to track across
    cv2.imwrite(str(folder / "a.png"), photo)
    (folder / "b.jpg").write_text("not a photo")
    cv2.imwrite(str(folder / "c.png"), shifted)
    (folder / "d.png").write_bytes(b"")
    outputs = []
    session = Session(RunSettings(input=str(folder), window=False, record=str(tmp_path / "photos.mp4")),
                      log=lambda _: None)
    original_step = session.step

    def step(image, time_s, photo=False, in_place=False):
        keep_going = original_step(image, time_s, photo, in_place)
        outputs.append((photo, session.last_output))
        return keep_going

    session.step = step
    summary = session.run()
    assert summary.frames == 2 and summary.skipped == 2
    assert [is_photo for is_photo, _ in outputs] == [True, True]
    assert np.array_equal(outputs[0][1], glare.apply_effect(photo))
    assert np.array_equal(outputs[1][1], glare.apply_effect(shifted))


def test_importing_glare_loads_none_of_the_heavy_modules():
    code = ("import sys, glare; heavy = [m for m in ('cv2', 'dlib', 'numba', 'ai_edge_litert', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.strip() == "[]", result.stderr
