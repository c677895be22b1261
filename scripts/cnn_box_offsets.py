"""Where HOG puts its face box relative to dlib's CNN detector, on faces both find.

The landmark predictor was trained on HOG's boxes; a CNN box handed to it as it is sits higher and
smaller, and the points shift. This measures the mean offset of each HOG edge from the CNN's, in the
CNN box's width and height, which ``glare.faces.CNN_TO_HOG_BOX`` holds. Only training-split photos
are used, so the figure is not taken from the faces it is scored on.

    python scripts/cnn_box_offsets.py [--limit 300]
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

from glare.eye_labels import read_eye_centres, split_of
from glare.faces import FaceFinder, box_iou
from glare.settings import shared_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=str(shared_data_dir() / "eye-centres.txt"))
    parser.add_argument("--limit", type=int, default=300, help="photos to measure on")
    args = parser.parse_args(argv)
    finder = FaceFinder()
    offsets = []
    photos = [face for face in read_eye_centres(args.labels) if split_of(face.image) == "train"][: args.limit]
    for face in photos:
        gray = cv2.imread(str(face.image), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            continue
        hog = finder.detect(gray, 1)
        for cnn in finder.detect_with_cnn(gray, like_hog=False):
            best = max(hog, key=lambda box: box_iou(box, cnn), default=None)
            if best is None or box_iou(best, cnn) < 0.3:
                continue
            w, h = cnn[2] - cnn[0], cnn[3] - cnn[1]
            offsets.append([(best[0] - cnn[0]) / w, (best[1] - cnn[1]) / h, (best[2] - cnn[2]) / w, (best[3] - cnn[3]) / h])
    if not offsets:
        print("no face found by both detectors", file=sys.stderr)
        return 1
    values = np.array(offsets)
    print(f"{len(values)} faces found by both, of {len(photos)} training photos")
    print("HOG edge - CNN edge, in CNN box sizes (left, top, right, bottom):")
    print("  mean   " + ", ".join(f"{v:+.3f}" for v in values.mean(axis=0)))
    print("  median " + ", ".join(f"{v:+.3f}" for v in np.median(values, axis=0)))
    print("  spread " + ", ".join(f"{v:.3f}" for v in values.std(axis=0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
