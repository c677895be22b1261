"""Where the render takes each iris from, scored on hand-labelled photos: the locator's pupil alone, and
after ``glare.iris.fit_iris`` (the limbus fit the engine runs on every drawn eye), which moves it along
the eye to the middle of the limbus it sees. The labels are pupil centres; the fit finds the visible
iris's middle, which is what the render moves, so this is a check that the fit does not pull a good
centre off, not the render's own measure.

    python scripts/limbus_fit_on_photos.py --split val

Run it on a checkout of another commit (its own ``glare`` package) to compare fits side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from glare.eye_labels import normalised_error, read_eye_centres, split_of
from glare.eyes import EyeShape
from glare.faces import FaceFinder
from glare.iris import IRIS_RADIUS_PER_EYE_DISTANCE, eye_distance_px, fit_iris
from glare.pipeline import locate_pupils
from glare.pupils import make_locator
from glare.settings import shared_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=shared_data_dir() / "eye-centres.txt")
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    args = parser.parse_args()
    faces = [face for face in read_eye_centres(args.labels) if split_of(face.image) == args.split]
    finder, locator = FaceFinder(), make_locator("model")
    errors: dict[str, list[float]] = {"locator": [], "locator + limbus fit": []}
    groups, both_sides, radius_ratios = [], [], []
    for face in faces:
        image = cv2.imread(str(face.image), cv2.IMREAD_COLOR)
        if image is None:
            continue
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found, _ = finder.face_for_label(gray, face.box)
        [located] = locate_pupils(gray, [found], locator)
        eyes = (located.right_eye, located.left_eye)
        prior = IRIS_RADIUS_PER_EYE_DISTANCE * eye_distance_px((eyes[0].eye, eyes[1].eye))
        pupils = [np.array(eye.pupil.centre) for eye in eyes]
        fits = [fit_iris(image, EyeShape.of(eye.eye), pupil, prior) for eye, pupil in zip(eyes, pupils)]
        errors["locator"].append(normalised_error(face, *pupils))
        errors["locator + limbus fit"].append(normalised_error(face, fits[0].centre, fits[1].centre))
        both_sides += [fit.radius_px is not None for fit in fits]
        radius_ratios += [fit.radius_px / prior for fit in fits if fit.radius_px is not None]
        groups.append(f"{image.shape[1]}x{image.shape[0]}")
    sizes = np.array(groups)
    print(f"split {args.split}: {len(groups)} faces; the limbus seen on both sides of {np.mean(both_sides):.1%} "
          f"of eyes, radius over the anatomical prior there: median {np.median(radius_ratios):.2f}")
    print(f"{'photos':10} {'centre':22} {'e<=0.025':>9} {'e<=0.05':>8} {'mean e':>8}")
    for size in sorted(set(groups)):
        for name, values in errors.items():
            chosen = np.array(values)[sizes == size]
            print(f"{size:10} {name:22} {np.mean(chosen <= 0.025):9.1%} {np.mean(chosen <= 0.05):8.1%} "
                  f"{chosen.mean():8.4f}")


if __name__ == "__main__":
    main()
