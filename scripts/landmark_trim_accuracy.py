"""Pupil accuracy with dlib's whole landmark predictor against the same walking fewer of its trees, on the same faces.

Each labelled photo of a split is searched once (HOG at full resolution, as ``glare eval`` does; the
few faces only the CNN finds are left out, so every predictor starts from the same box). Each
predictor then fits the landmarks at that box, the bundled eye model finds the pupils, and the
normalised error (the worse eye's distance over the inter-ocular distance) is scored. Also printed:
how far each trim moves the eye points from the whole model's, in inter-ocular distances.

    python scripts/landmark_trim_accuracy.py --split val --trims 2:300 0:300 0:200
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from glare.evaluation import read_for_scoring
from glare.eye_labels import normalised_error, read_eye_centres, split_of
from glare.faces import Face, FaceFinder
from glare.landmark_predictor import PredictorTrim
from glare.pipeline import locate_pupils
from glare.pupils import make_locator
from glare.settings import shared_data_dir


def _trim(text: str) -> PredictorTrim:
    whole, _, later = text.partition(":")
    return PredictorTrim(int(whole), int(later))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=str(shared_data_dir() / "eye-centres.txt"))
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("--trims", nargs="+", type=_trim, default=[PredictorTrim()],
                        help="WHOLE:LATER: keep the first WHOLE cascades whole, then LATER trees of each later one")
    args = parser.parse_args(argv)
    whole = FaceFinder(cnn_fallback=False)
    trimmed = {f"{trim.whole_cascades}:{trim.later_trees}": FaceFinder(cnn_fallback=False, landmark_trim=trim)
               for trim in args.trims}
    locator = make_locator("model")
    finders = {"whole": whole, **trimmed}
    errors: dict[str, list[float]] = {name: [] for name in finders}
    moves: dict[str, list[float]] = {name: [] for name in finders}
    for labelled in (face for face in read_eye_centres(args.labels) if split_of(face.image) == args.split):
        image = read_for_scoring(labelled.image, grayscale_copy=False)
        if image is None:
            continue
        found, detector = whole.face_for_label(image, labelled.box)
        if detector != "hog":
            continue
        inter_ocular = np.linalg.norm(found.landmarks[36:42].mean(axis=0) - found.landmarks[42:48].mean(axis=0))
        for name, finder in finders.items():
            landmarks = found.landmarks if finder is whole else finder.landmarks(image, found.box)
            [pupils] = locate_pupils(image, [Face(found.box, landmarks, 1)], locator)
            errors[name].append(normalised_error(labelled, pupils.right_eye.pupil.centre, pupils.left_eye.pupil.centre))
            moves[name].append(np.linalg.norm(landmarks[36:48] - found.landmarks[36:48], axis=1).mean() / inter_ocular)
    print(f"{'predictor':<10}{'faces':>7}{'e<=0.025':>10}{'e<=0.05':>9}{'mean e':>9}{'eye points moved':>18}")
    for name in finders:
        error, moved = np.array(errors[name]), np.array(moves[name])
        print(f"{name:<10}{len(error):>7}{100 * np.mean(error <= 0.025):>9.1f}%{100 * np.mean(error <= 0.05):>8.1f}%"
              f"{error.mean():>9.4f}{moved.mean():>18.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
