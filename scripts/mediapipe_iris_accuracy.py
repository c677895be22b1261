"""MediaPipe's iris model scored on glare's held-out faces, the same way ``glare eval`` scores glare.

Runs in MediaPipe's own virtual environment (see mediapipe_run.sh; it needs only NumPy and OpenCV
from glare's side, through ``glare.eye_labels``). Face Mesh with ``refine_landmarks=True`` in
still-image mode on each labelled photo; the mesh face that overlaps the labelled box most gives
the two iris centres (landmarks 468 and 473, each matched to the eye whose corners it lies between).
A face MediaPipe does not find is a miss at every threshold, as one dlib misses is for glare.

    scripts/mediapipe_run.sh scripts/mediapipe_iris_accuracy.py [--split test] [--labels FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from glare.eye_labels import normalised_error, read_eye_centres, split_of  # noqa: E402
from glare.settings import shared_data_dir  # noqa: E402

THRESHOLDS = (0.025, 0.05, 0.1, 0.25)
IRIS_CENTRES = (468, 473)
RIGHT_EYE_CORNERS = (33, 133)
"""The person's right eye (the image's left), in the mesh's numbering."""
LEFT_EYE_CORNERS = (362, 263)


def _iris_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the person's right iris, left iris) in pixels, each matched to the nearer eye's corners."""
    right_eye = points[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    first, second = points[IRIS_CENTRES[0]], points[IRIS_CENTRES[1]]
    if np.linalg.norm(first - right_eye) <= np.linalg.norm(second - right_eye):
        return first, second
    return second, first


def _overlap(points: np.ndarray, box: tuple[float, float, float, float]) -> float:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    inter = max(0.0, min(x1, box[2]) - max(x0, box[0])) * max(0.0, min(y1, box[3]) - max(y0, box[1]))
    return inter / max((box[2] - box[0]) * (box[3] - box[1]), 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=str(shared_data_dir() / "eye-centres.txt"))
    parser.add_argument("--split", choices=["train", "val", "test", "all"], default="test")
    args = parser.parse_args()
    faces = [face for face in read_eye_centres(Path(args.labels)) if args.split == "all" or split_of(face.image) == args.split]
    errors: dict[str, list[float]] = {}
    found = 0
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=4, refine_landmarks=True) as mesh:
        for face in faces:
            image = cv2.imread(str(face.image))
            if image is None:
                continue
            height, width = image.shape[:2]
            result = mesh.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            error = float("inf")
            meshes = [np.array([(p.x * width, p.y * height) for p in landmarks.landmark])
                      for landmarks in (result.multi_face_landmarks or [])]
            best = max(meshes, key=lambda points: _overlap(points, face.box), default=None)
            if best is not None and _overlap(best, face.box) > 0.3:
                found += 1
                error = normalised_error(face, *_iris_centres(best))
            for group in ("all", f"{width}x{height}"):
                errors.setdefault(group, []).append(error)
    print(f"MediaPipe Face Mesh 0.10.14, refined iris, split {args.split}: {found} of {len(errors.get('all', []))} faces found")
    print(f"{'photos':<12}{'faces':>7}" + "".join(f"{'e<=' + str(t):>10}" for t in THRESHOLDS) + f"{'median e':>10}")
    for group, values in errors.items():
        values = np.array(values)
        shares = "".join(f"{(values <= t).mean() * 100:>9.1f}%" for t in THRESHOLDS)
        print(f"{group:<12}{len(values):>7}{shares}{np.median(values):>10.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
