"""glare-label --order uncertain: the images glare's model is least sure about come first."""

import functools

import cv2
import numpy as np

from glare.eye_labels import normalised_error, read_eye_centres, split_of
from glare.labeler.doubt import make_doubt, most_doubtful_first
from glare.labeler.cli import build_parser


def test_the_least_sure_come_first_and_a_photo_with_no_face_leads(tmp_path, data_dir):
    faces = [face for face in read_eye_centres(data_dir / "eye-centres.txt") if split_of(face.image) == "val"][:36]
    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(1).integers(0, 256, (120, 120, 3), dtype=np.uint8))
    doubt = functools.cache(make_doubt("pupils"))  # each photo's doubt computed once in this test
    photos = [face.image for face in faces]
    ordered = most_doubtful_first([*photos, noise], doubt, log=lambda _: None)
    assert ordered[0] == noise
    doubts = [doubt(path) for path in ordered]
    assert doubts == sorted(doubts, reverse=True)
    # The doubt means something: the model's real error is larger on the third it doubts most.
    from glare.faces import FaceFinder
    from glare.pipeline import locate_pupils
    from glare.pupils import make_locator

    finder, locator = FaceFinder(), make_locator("model")
    by_path = {face.image: face for face in faces}
    errors = []
    for path in ordered[1:]:
        face = by_path[path]
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        found, _ = finder.face_for_label(image, face.box)
        [result] = locate_pupils(image, [found], locator)
        errors.append(normalised_error(face, result.right_eye.pupil.centre, result.left_eye.pupil.centre))
    third = len(errors) // 3
    assert np.mean(errors[:third]) > np.mean(errors[-third:])


def test_equal_doubts_keep_their_order(tmp_path):
    paths = [tmp_path / f"{name}.jpg" for name in "abcd"]
    doubts = {paths[0]: 0.2, paths[1]: 0.9, paths[2]: 0.2, paths[3]: 0.9}
    assert most_doubtful_first(paths, doubts.__getitem__, log=lambda _: None) == [paths[1], paths[3], paths[0], paths[2]]
    assert build_parser().parse_args(["x", "--order", "uncertain"]).order == "uncertain"
