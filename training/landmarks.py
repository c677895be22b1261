"""A faster 68-point landmark predictor, distilled from dlib's.

dlib's 68-point model is 99 MB: a fit reads about 4 MB of it, which the rest of a frame's work
evicts from the cache, so inside glare's loop it costs 1.6-2 ms a face, half the frame. This
trains a smaller cascade (fewer trees a level; deeper trees cost no more reads) with dlib's own
trainer on faces labelled by dlib's model itself: every photo's HOG box (what the tracker
hands the predictor) and the 68 points fitted in it. Only training-split web photos are used
(the validation and test photos score the pupils), and the LFW photos, which have no hand labels.

    glare-train landmarks --out runs/landmarks
    glare bench --input CLIP --landmark-model runs/landmarks/face_landmarks_fast.dat
    glare run --landmark-model runs/landmarks/face_landmarks_fast.dat ...

What it gave here, and why it is not the default, is in docs/measurements.md.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import dlib
import numpy as np

from glare.capture import image_paths
from glare.eye_labels import group_bucket, split_of
from glare.faces import FaceFinder


@dataclass(frozen=True)
class LandmarkTrainSettings:
    data: Path
    """The shared data folder: its ``lfw`` and ``web-faces`` photos are labelled by dlib's model."""
    out: Path
    limit: int = 0
    """At most this many photos (0: all)."""
    held_out: float = 0.1
    """Share of photo groups kept out of training to score the distilled model against dlib's."""
    cascade_depth: int = 10
    trees_per_level: int = 200
    tree_depth: int = 5
    oversampling: int = 20
    translation_jitter: float = 0.1
    """Initial shapes are also shifted by up to this share of the box: the tracker's boxes come from
    the last frame's points, not from a fresh detection."""
    feature_pool_size: int = 400
    test_splits: int = 20
    threads: int = 2
    seed: int = 0


@dataclass
class LandmarkReport:
    photos: int = 0
    labelled: int = 0
    """Photos where HOG found a face (the largest is used)."""
    held_out: int = 0
    train_seconds: float = 0.0
    eye_error: dict[str, float] = field(default_factory=dict)
    """Eye points (36-47) against dlib's model on the held-out photos, mean per face, in inter-ocular
    distances: mean, median, p90."""
    size_mb: float = 0.0


def _photos(settings: LandmarkTrainSettings) -> list[Path]:
    lfw = image_paths(settings.data / "lfw", recursive=True)
    web = [path for path in image_paths(settings.data / "web-faces") if split_of(path) == "train"]
    photos = lfw + web
    random.Random(settings.seed).shuffle(photos)
    return photos[: settings.limit] if settings.limit else photos


def _label(finder: FaceFinder, path: Path) -> tuple[np.ndarray, dlib.full_object_detection] | None:
    """The photo in gray and dlib's fit of its largest HOG face, or None where HOG finds none."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        return None
    boxes = finder.detect(gray, 1)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    points = finder.landmarks(gray, box)
    rect = dlib.rectangle(*(int(round(v)) for v in box))
    return gray, dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y))) for x, y in points])


def _options(settings: LandmarkTrainSettings) -> dlib.shape_predictor_training_options:
    options = dlib.shape_predictor_training_options()
    options.cascade_depth = settings.cascade_depth
    options.num_trees_per_cascade_level = settings.trees_per_level
    options.tree_depth = settings.tree_depth
    options.oversampling_amount = settings.oversampling
    options.oversampling_translation_jitter = settings.translation_jitter
    options.feature_pool_size = settings.feature_pool_size
    options.num_test_splits = settings.test_splits
    options.num_threads = settings.threads
    options.random_seed = str(settings.seed)
    return options


def eye_errors(predictor: dlib.shape_predictor, images: list[np.ndarray],
               labels: list[dlib.full_object_detection]) -> np.ndarray:
    """Per face, the mean distance of the eye points (36-47) from the labels, in inter-ocular distances."""
    errors = []
    for gray, label in zip(images, labels):
        truth = np.array([(p.x, p.y) for p in label.parts()], dtype=np.float64)
        fitted = predictor(gray, label.rect)
        got = np.array([(p.x, p.y) for p in fitted.parts()], dtype=np.float64)
        inter_ocular = np.linalg.norm(truth[36:42].mean(axis=0) - truth[42:48].mean(axis=0))
        errors.append(np.linalg.norm(got[36:48] - truth[36:48], axis=1).mean() / max(inter_ocular, 1.0))
    return np.array(errors)


def train_landmarks(settings: LandmarkTrainSettings, log=print) -> LandmarkReport:
    """Labels the photos with dlib's model, trains the smaller predictor on all but the held-out
    groups, scores it there, and writes ``face_landmarks_fast.dat`` and ``landmarks.json`` to ``out``."""
    settings.out.mkdir(parents=True, exist_ok=True)
    report = LandmarkReport()
    finder = FaceFinder(cnn_fallback=False)
    photos = _photos(settings)
    report.photos = len(photos)
    train_images, train_labels, held_images, held_labels = [], [], [], []
    held_groups = settings.held_out * 100
    for index, path in enumerate(photos):
        if index % 2000 == 0:
            log(f"  labelling {index}/{len(photos)}")
        labelled = _label(finder, path)
        if labelled is None:
            continue
        # Held out by group (a person, a group photo), never by photo.
        held = group_bucket(path) < held_groups
        (held_images if held else train_images).append(labelled[0])
        (held_labels if held else train_labels).append(labelled[1])
    report.labelled, report.held_out = len(train_images) + len(held_images), len(held_images)
    if not train_images:
        raise ValueError(f"no face found in the photos under {settings.data}: check --data")
    log(f"training on {len(train_images)} faces ({report.held_out} held out)")
    start = time.perf_counter()
    predictor = dlib.train_shape_predictor(train_images, [[label] for label in train_labels], _options(settings))
    report.train_seconds = time.perf_counter() - start
    model_path = settings.out / "face_landmarks_fast.dat"
    predictor.save(str(model_path))
    report.size_mb = model_path.stat().st_size / 1e6
    if held_images:
        errors = eye_errors(predictor, held_images, held_labels)
        report.eye_error = {"mean": float(errors.mean()), "median": float(np.median(errors)),
                            "p90": float(np.percentile(errors, 90))}
    (settings.out / "landmarks.json").write_text(json.dumps(
        {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
         "report": asdict(report)}, indent=2))
    return report
