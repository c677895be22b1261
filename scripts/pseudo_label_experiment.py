"""Would pre-training on better coarse labels give a better model? A copy of a prepared dataset whose
coarse (LFW) pupils are trained models' answers instead of mean-shift's.

The coarse stage learns from mean-shift's pupils, which sit a median 2.6 crop px from what the eighth
pass's two models answer on the same eyes, where their error on hand-labelled eyes is about 1.8 px.
This writes a dataset in which every coarse sample's pupil is the average of the given exported
models' answers (the corners stay dlib's, the hand-labelled samples stay as they are), to be trained on
with ``glare-train train`` as any other:

    python scripts/pseudo_label_experiment.py runs/reproduce/eyes runs/relabelled \
        runs/reproduce/seed-7/export/eye_model.tflite runs/reproduce/seed-8/export/eye_model.tflite
    glare-train train --dataset runs/relabelled --out runs/relabelled-seed-7 --seed 7

The models were trained on the training split's hand labels only, so no validation or test eye
reaches training through them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from glare.pupils.model import EyeModel
from glare.training.prepare import COARSE_SOURCE, iter_chunks, write_chunk

BATCH = 256


def relabel(dataset: Path, out: Path, teachers: list[EyeModel]) -> np.ndarray:
    """Writes the relabelled copy; returns how far each coarse pupil moved (crop px)."""
    if (out / "chunks").exists():
        raise FileExistsError(f"{out} already holds a dataset: give a new folder")
    (out / "chunks").mkdir(parents=True)
    for name in ("dataset.json", "manifest.jsonl", "prepare.json"):
        shutil.copy2(dataset / name, out / name)
    moved = [np.zeros(0)]
    for index, chunk in iter_chunks(dataset):
        info = json.loads(str(chunk["records"]))
        coarse = np.array([record["source"] == COARSE_SOURCE for record in info["records"]], bool)
        points = chunk["points"].copy()
        if coarse.any():
            crops = chunk["crops"][coarse]
            answers = np.mean([np.concatenate([teacher.predict(crops[start:start + BATCH])
                                               for start in range(0, len(crops), BATCH)]) for teacher in teachers], axis=0)
            moved.append(np.linalg.norm(answers[:, 2] - points[coarse, 2], axis=1))
            points[coarse, 2] = answers[:, 2]
        write_chunk(out / "chunks" / f"{index:05d}.npz", chunk["crops"], points, chunk["point_weights"], info)
    return np.concatenate(moved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, help="a dataset 'glare-train prepare' made")
    parser.add_argument("out", type=Path, help="a new folder for the relabelled copy")
    parser.add_argument("models", type=Path, nargs="+", help="exported eye_model.tflite files, averaged")
    args = parser.parse_args()
    moved = relabel(args.dataset, args.out, [EyeModel(path) for path in args.models])
    print(f"{len(moved)} coarse pupils relabelled: moved {np.median(moved):.2f} crop px median, "
          f"{np.percentile(moved, 90):.2f} at the 90th percentile")


if __name__ == "__main__":
    main()
