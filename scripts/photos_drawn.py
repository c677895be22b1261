"""Which labelled photos the effect changes, as `glare apply` runs it: a quick check of what a change to the
render or its gates does to photos, before looking at them.

Picks ``--count`` photos of a split of `eye-centres.txt` at random (``--seed``), applies the glare effect to
each and prints how many it changed; with ``--list`` the names too, one a line, changed ones marked ``*``.
Run it on another checkout (``PYTHONPATH=<checkout>``) and compare the lists to see which photos a change
leaves alone or starts to draw on.

    python scripts/photos_drawn.py --split val --count 400 --seed 0 --list > drawn.txt
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2

import glare
from glare.eye_labels import read_eye_centres, split_of
from glare.settings import shared_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=shared_data_dir() / "eye-centres.txt")
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="print every photo's name, changed ones marked *")
    args = parser.parse_args()
    faces = [face for face in read_eye_centres(args.labels) if split_of(face.image) == args.split]
    chosen = random.Random(args.seed).sample(faces, min(args.count, len(faces)))
    changed = 0
    for face in chosen:
        photo = cv2.imread(str(face.image), cv2.IMREAD_COLOR)
        if photo is None:
            continue
        drawn = bool((glare.apply_effect(photo, "glare") != photo).any())
        changed += drawn
        if args.list:
            print(f"{'*' if drawn else ' '} {face.image.name}")
    print(f"the effect changed {changed} of {len(chosen)} photos ({args.split} split, seed {args.seed})")


if __name__ == "__main__":
    main()
