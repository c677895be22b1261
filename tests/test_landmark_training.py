"""glare-train landmarks: a tiny distillation run, end to end (a real run is a command, see docs)."""

import json

import cv2
import numpy as np
import pytest

from glare.faces import FaceFinder
from glare.training.cli import main


def test_a_tiny_distilled_predictor_trains_loads_and_fits_faces(tmp_path, data_dir, capsys):
    out = tmp_path / "landmarks"
    assert main(["landmarks", "--data", str(data_dir), "--out", str(out), "--limit", "60", "--cascade-depth", "3",
                 "--trees", "8", "--tree-depth", "3", "--oversampling", "3"]) == 0
    assert "held out" in capsys.readouterr().out
    record = json.loads((out / "landmarks.json").read_text())
    report = record["report"]
    assert report["labelled"] > 40 and 0 < report["held_out"] < report["labelled"]
    # Even three levels of eight trees land the eye points near dlib's; a broken pairing of photos and
    # labels would leave them a third of the eye distance or more away.
    assert report["eye_error"]["mean"] < 0.2
    fast, reference = FaceFinder(landmark_model=out / "face_landmarks_fast.dat"), FaceFinder()
    photo = cv2.imread(str(sorted((data_dir / "web-faces").glob("*.jpg"))[0]))
    (face,) = reference.find(photo)
    fitted = fast.landmarks(photo, face.box)
    inter_ocular = np.linalg.norm(face.landmarks[36:42].mean(axis=0) - face.landmarks[42:48].mean(axis=0))
    assert fitted.shape == (68, 2)
    assert np.linalg.norm(fitted[36:48] - face.landmarks[36:48], axis=1).mean() < 0.3 * inter_ocular


def test_a_missing_landmark_model_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="glare-train landmarks"):
        FaceFinder(landmark_model=tmp_path / "nope.dat")
