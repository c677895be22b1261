"""Where the pupils are lost, by head turn: the shares within e <= 0.025 and 0.05 per turn of the head, and
per eye (the image-left and the image-right one), for the model locator as ``glare eval`` scores it.

The web faces of ``eye-centres.txt`` come in two kinds: 400x400 photos (mostly frontal), and 160x216
photos named ``_YAW_ID_N.jpg``, whose YAW (-60 to 60, degrees) says how far the head is turned. Scored
on the validation split by default (the test split is not for choosing what to work on).

    python scripts/eval_by_pose.py --split val
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict

import numpy as np

from glare.eye_labels import LabelledFace, read_eye_centres, split_of
from glare.evaluation import read_for_scoring
from glare.faces import FaceFinder
from glare.pipeline import locate_pupils
from glare.pupils import make_locator
from glare.settings import shared_data_dir

YAW_IN_NAME = re.compile(r"_(-?\d+)_\d+_\d+$")


def pose_of(face: LabelledFace) -> str:
    """The head's yaw from the photo's name (``_YAW_ID_N``), or 'photo' where the name holds none."""
    match = YAW_IN_NAME.fullmatch(face.image.stem)
    return f"yaw {int(match.group(1)):+d}" if match else "photo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=str(shared_data_dir() / "eye-centres.txt"))
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("--model", help="an eye_model.tflite made by glare-train export, instead of the bundled one")
    args = parser.parse_args(argv)
    finder, locator = FaceFinder(), make_locator("model", args.model)
    # Per pose: each face's two eyes' errors over the inter-ocular distance (image-left eye first).
    errors: dict[str, list[tuple[float, float]]] = defaultdict(list)
    skipped = 0
    for face in (face for face in read_eye_centres(args.labels) if split_of(face.image) == args.split):
        image = read_for_scoring(face.image, grayscale_copy=False)
        if image is None:
            skipped += 1
            continue
        found, _ = finder.face_for_label(image, face.box)
        [pupils] = locate_pupils(image, [found], locator)
        pairs = ((pupils.right_eye.pupil.centre, face.right_eye), (pupils.left_eye.pupil.centre, face.left_eye))
        errors[pose_of(face)].append(tuple(float(np.hypot(p[0] - q[0], p[1] - q[1]) / face.interocular_px)
                                           for p, q in pairs))
    print(f"{'pose':<9}{'faces':>6}{'e<=0.025':>10}{'e<=0.05':>9}   image-left eye <=0.025 / 0.05   "
          "image-right eye <=0.025 / 0.05")
    order = sorted(errors, key=lambda pose: (pose == "photo", int(pose.split()[1]) if pose != "photo" else 0))
    for pose in order:
        eyes = np.asarray(errors[pose])
        worse = eyes.max(axis=1)
        shares = [100 * np.mean(values <= threshold) for values in (worse, eyes[:, 0], eyes[:, 1])
                  for threshold in (0.025, 0.05)]
        print(f"{pose:<9}{len(eyes):>6}{shares[0]:>9.1f}%{shares[1]:>8.1f}%   {shares[2]:>14.1f}% / {shares[3]:.1f}%"
              f"   {shares[4]:>15.1f}% / {shares[5]:.1f}%")
    if skipped:
        print(f"{skipped} unreadable images skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
