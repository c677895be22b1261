"""prepare: face photos -> upright eye crops with labels, split by person, with a manifest.

Every eye of every face dlib finds gets a crop (the runtime's ``CropGeometry``) and three
points in crop pixels: the image-left corner, the image-right corner (both from dlib's
landmarks) and the pupil. The pupil is a *coarse* label from the mean-shift locator, or a *fine*
one where a label file gives it (``eye-centres.txt`` or the labelling tool's JSON); each sample
records which. Images go in chunks, one ``.npz`` per chunk written atomically, so an interrupted
run resumes where it stopped.

Output folder::

    prepare.json      the inputs and settings (a resumed run must match them)
    chunks/NNNNN.npz  crops (N, H, W) uint8, points (N, 3, 2), point_weights (N, 3), records (JSON)
    manifest.jsonl    one line per eye sample: chunk, index, image, side, split, group, source, ...
    dataset.json      counts per split and source, unreadable images
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.capture import image_paths
from glare.eye_labels import group_key, read_eye_centres, split_of
from glare.eyes import CropGeometry, Eye, EyeCrop, apply_affine, eyes_from_landmarks, rescale_points, upright_crop
from glare.faces import Box, Face, FaceFinder
from glare.pupils.meanshift import MeanShiftLocator
from glare.files import write_atomically
from glare.labeler.labels import POINT_SETS, read_label_file

POINT_NAMES = ("corner_image_left", "corner_image_right", "pupil")
"""The three points every sample carries, in this order, in crop pixels."""

COARSE_SOURCE = "meanshift"


@dataclass(frozen=True)
class FineFace:
    """Hand-made pupils for one face photo, in image pixels."""

    right_pupil: tuple[float, float] | None
    left_pupil: tuple[float, float] | None
    box: Box | None
    source: str


@dataclass(frozen=True)
class FineCrop:
    """Hand-made points for an eye-crop image, in that image's pixels (names from ``POINT_NAMES``)."""

    points: dict[str, tuple[float, float]]
    source: str


@dataclass(frozen=True)
class PrepareSettings:
    out: Path
    images: tuple[Path, ...] = ()
    """Folders of face photos (searched recursively); images named by label files are added."""
    labels: tuple[Path, ...] = ()
    """``eye-centres.txt`` files and glare label files (JSON) with hand-made pupils."""
    geometry: CropGeometry = CropGeometry()
    upsample: int = 1
    min_eye_width_px: float = 10.0
    """Eyes narrower than this in the photo are too blurry to label."""
    chunk_size: int = 100
    workers: int = 0
    """Processes; 0 means one per core."""
    limit: int = 0
    """Use at most this many images (0: all), spread evenly over the list, for quick trials."""


@dataclass
class PrepareSummary:
    images: int = 0
    unreadable: list[str] = field(default_factory=list)
    no_face: int = 0
    samples: Counter = field(default_factory=Counter)
    """Eye samples per (split, source)."""
    chunks_reused: int = 0

    def describe(self) -> str:
        lines = [f"{self.images} images; {sum(self.samples.values())} eye samples"
                 + (f" ({self.chunks_reused} chunks reused from an earlier run)" if self.chunks_reused else "")]
        for (split, source), count in sorted(self.samples.items()):
            lines.append(f"  {split:<6}{source:<28}{count:>7}")
        lines.append(f"{self.no_face} images without a usable face; {len(self.unreadable)} unreadable images skipped")
        return "\n".join(lines)


def read_fine_labels(paths: Iterable[Path]) -> tuple[dict[Path, FineFace], dict[Path, FineCrop]]:
    """Hand labels by resolved image path: face photos, and eye crops."""
    faces: dict[Path, FineFace] = {}
    crops: dict[Path, FineCrop] = {}
    for path in paths:
        path = Path(path)
        source = f"hand:{path.name}"
        if path.suffix.lower() == ".json":
            labels = read_label_file(path)
            for key, image_labels in labels.confirmed().items():
                points = {name: point.xy for name, point in image_labels.points.items()}
                image = labels.image_path(key).resolve()
                if labels.point_set == "pupils":
                    faces[image] = FineFace(points.get("right_pupil"), points.get("left_pupil"), None, source)
                elif "pupil" in points:
                    crops[image] = FineCrop(points, source)
        else:
            for face in read_eye_centres(path):
                faces[face.image.resolve()] = FineFace(face.right_eye, face.left_eye, face.box, source)
    return faces, crops


def _faces_nearest_labels(faces: list[Face], fine: FineFace) -> list[Face]:
    """The one face hand-labelled pupils (with no face box) belong to: the one whose eyes lie nearest them."""
    labelled = [(side, np.array(p)) for side, p in enumerate((fine.right_pupil, fine.left_pupil)) if p is not None]
    if not faces or not labelled:
        return []

    def distance(face: Face) -> float:
        eyes = eyes_from_landmarks(face.landmarks)
        return max(float(np.abs(eyes[side].centre - pupil).max()) for side, pupil in labelled)

    return [min(faces, key=distance)]


def _crop_points(crop: EyeCrop, pupil: np.ndarray) -> np.ndarray:
    return np.array([crop.contour[0], crop.contour[3], pupil], dtype=np.float32)


class EyeSampler:
    """Turns one image into eye samples; one per worker process (it holds dlib's models)."""

    def __init__(self, settings: PrepareSettings, fine_faces: dict[Path, FineFace], fine_crops: dict[Path, FineCrop]):
        self.settings = settings
        self.finder = FaceFinder()
        self.meanshift = MeanShiftLocator(geometry=settings.geometry)
        self.fine_faces = fine_faces
        self.fine_crops = fine_crops

    def samples(self, path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, dict]] | None:
        """(crop, points, point_weights, record) per eye; None when the image cannot be read."""
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            return None
        resolved = path.resolve()
        if resolved in self.fine_crops:
            return [self._crop_sample(image, self.fine_crops[resolved])]
        fine = self.fine_faces.get(resolved)
        if fine is not None and fine.box is not None:
            # The labelled box stands in where dlib finds no face overlapping it.
            faces = [self.finder.face_for_label(image, fine.box, self.settings.upsample)[0]]
        else:
            faces = self.finder.find(image, self.settings.upsample)
            if fine is not None:
                faces = _faces_nearest_labels(faces, fine)
        found = []
        for face_index, face in enumerate(faces):
            eyes = eyes_from_landmarks(face.landmarks)
            fine_pupils = (fine.right_pupil, fine.left_pupil) if fine else (None, None)
            for eye, fine_pupil in zip(eyes, fine_pupils):
                sample = self._eye_sample(image, eye, fine_pupil, fine.source if fine else None)
                if sample is not None:
                    sample[3]["face"] = face_index
                    found.append(sample)
        return found

    def _eye_sample(self, image: np.ndarray, eye: Eye, fine_pupil, fine_source: str | None):
        if eye.width_px < self.settings.min_eye_width_px:
            return None
        geometry = self.settings.geometry
        crop = upright_crop(image, eye, geometry)
        coarse = self.meanshift.locate_in_crop(crop)
        record = {"side": eye.side, "openness": round(eye.openness, 3), "eye_width_px": round(eye.width_px, 1),
                  "coarse_confidence": round(coarse.confidence, 3) if coarse else 0.0}
        if fine_pupil is not None:
            pupil = apply_affine(crop.to_crop, np.array([fine_pupil], dtype=np.float64))[0]
            inside = 0 <= pupil[0] <= geometry.width - 1 and 0 <= pupil[1] <= geometry.height - 1
            if not inside:
                return None  # the landmarks missed this eye; a label outside the crop would teach nonsense
            record["source"] = fine_source
        elif coarse is not None:
            pupil = np.array(coarse.centre)
            record["source"] = COARSE_SOURCE
        else:
            return None
        return crop.image, _crop_points(crop, pupil), np.ones(3, np.float32), record

    def _crop_sample(self, image: np.ndarray, fine: FineCrop):
        """An eye-crop image labelled by hand: resized to the crop size, corners used only if labelled."""
        geometry = self.settings.geometry
        scale = np.array([geometry.width / image.shape[1], geometry.height / image.shape[0]])
        resized = cv2.resize(image, (geometry.width, geometry.height), interpolation=cv2.INTER_AREA)
        points = np.zeros((3, 2), np.float32)
        weights = np.zeros(3, np.float32)
        for index, name in enumerate(POINT_NAMES):
            if name in fine.points:
                points[index] = rescale_points(fine.points[name], scale)
                weights[index] = 1.0
        record = {"side": "unknown", "openness": None, "eye_width_px": None, "coarse_confidence": 0.0,
                  "source": fine.source, "face": 0}
        return resized, points, weights, record


_sampler: EyeSampler | None = None


def _start_worker(settings: PrepareSettings, fine_faces, fine_crops) -> None:
    global _sampler
    cv2.setNumThreads(1)
    _sampler = EyeSampler(settings, fine_faces, fine_crops)


def _process_chunk(job: tuple[int, list[str], str]) -> dict:
    """Writes one chunk's npz (atomically) and returns its statistics."""
    index, paths, chunk_path = job
    crops, points, weights, records, unreadable, no_face = [], [], [], [], [], 0
    for name in paths:
        path = Path(name)
        samples = _sampler.samples(path)
        if samples is None:
            unreadable.append(name)
            continue
        no_face += not samples
        for crop, crop_points, point_weights, record in samples:
            record.update(image=name, group=group_key(path), split=split_of(path))
            crops.append(crop)
            points.append(crop_points)
            weights.append(point_weights)
            records.append(record)
    geometry = _sampler.settings.geometry
    write_chunk(Path(chunk_path), np.array(crops, np.uint8).reshape(-1, geometry.height, geometry.width),
                np.array(points, np.float32).reshape(-1, 3, 2), np.array(weights, np.float32).reshape(-1, 3),
                {"records": records, "unreadable": unreadable, "no_face": no_face, "images": len(paths)})
    return {"index": index, "images": len(paths)}


def write_chunk(path: Path, crops: np.ndarray, points: np.ndarray, point_weights: np.ndarray, info: dict) -> None:
    """One chunk file, written whole or not at all; ``info`` holds the records and the image counts."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, crops=crops, points=points, point_weights=point_weights, records=np.array(json.dumps(info)))
    write_atomically(path, buffer.getvalue())


def _fingerprint(settings: PrepareSettings, images: list[str]) -> dict:
    labels = []
    for path in settings.labels:
        stat = Path(path).stat()
        labels.append({"path": str(Path(path).resolve()), "bytes": stat.st_size, "mtime": int(stat.st_mtime)})
    digest = hashlib.sha256("\n".join(images).encode()).hexdigest()
    return {"images": len(images), "images_sha256": digest, "labels": labels,
            "geometry": asdict(settings.geometry), "upsample": settings.upsample,
            "min_eye_width_px": settings.min_eye_width_px, "chunk_size": settings.chunk_size}


def list_images(settings: PrepareSettings, fine_faces: dict, fine_crops: dict) -> list[str]:
    found = set()
    for folder in settings.images:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"image folder {folder} does not exist: pass a folder of face photos with --images")
        found.update(str(p.resolve()) for p in image_paths(folder, recursive=True))
    found.update(str(p) for p in fine_faces)
    found.update(str(p) for p in fine_crops)
    images = sorted(found)
    if settings.limit and settings.limit < len(images):
        # Evenly spread, so that a small trial still sees every folder and label file.
        images = [images[i] for i in np.linspace(0, len(images) - 1, settings.limit).astype(int)]
    return images


def prepare(settings: PrepareSettings, fresh: bool = False, progress: bool = True) -> PrepareSummary:
    """Builds (or resumes building) the dataset in ``settings.out``."""
    fine_faces, fine_crops = read_fine_labels(settings.labels)
    images = list_images(settings, fine_faces, fine_crops)
    if not images:
        raise ValueError("no images to prepare: pass --images FOLDER and/or --labels FILE")
    out = Path(settings.out)
    chunks = out / "chunks"
    fingerprint = _fingerprint(settings, images)
    settings_file = out / "prepare.json"
    if settings_file.exists() and not fresh:
        if json.loads(settings_file.read_text()) != fingerprint:
            raise ValueError(f"{out} was prepared from other inputs or settings: pass --fresh to rebuild it, or choose another --out")
    elif chunks.exists():
        shutil.rmtree(chunks)
    chunks.mkdir(parents=True, exist_ok=True)
    write_atomically(settings_file, json.dumps(fingerprint, indent=1))

    jobs = []
    for index, start in enumerate(range(0, len(images), settings.chunk_size)):
        chunk_path = chunks / f"{index:05d}.npz"
        if not chunk_path.exists():
            jobs.append((index, images[start:start + settings.chunk_size], str(chunk_path)))
    total_chunks = -(-len(images) // settings.chunk_size)
    if jobs:
        _run_jobs(jobs, settings, fine_faces, fine_crops, progress)
    summary = write_manifest(out, total_chunks)
    summary.chunks_reused = total_chunks - len(jobs)
    return summary


def _run_jobs(jobs, settings: PrepareSettings, fine_faces, fine_crops, progress: bool) -> None:
    from tqdm import tqdm

    workers = settings.workers or os.cpu_count() or 1
    bar = tqdm(total=sum(len(job[1]) for job in jobs), unit="img", desc="prepare", disable=not progress)
    if workers == 1:
        _start_worker(settings, fine_faces, fine_crops)
        for job in jobs:
            bar.update(_process_chunk(job)["images"])
    else:
        # spawn, not fork: dlib and OpenCV hold threads that a forked child must not inherit.
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, _start_worker, (settings, fine_faces, fine_crops)) as pool:
            for done in pool.imap_unordered(_process_chunk, jobs):
                bar.update(done["images"])
    bar.close()


def iter_chunks(out: Path) -> Iterator[tuple[int, dict]]:
    for chunk_path in sorted((Path(out) / "chunks").glob("*.npz")):
        with np.load(chunk_path) as chunk:
            yield int(chunk_path.stem), {key: chunk[key] for key in chunk.files}


def write_manifest(out: Path, total_chunks: int) -> PrepareSummary:
    """manifest.jsonl and dataset.json from every chunk, and the summary."""
    summary = PrepareSummary()
    lines = []
    seen = 0
    for chunk_index, chunk in iter_chunks(out):
        seen += 1
        info = json.loads(str(chunk["records"]))
        summary.images += info["images"]
        summary.unreadable += info["unreadable"]
        summary.no_face += info["no_face"]
        for index, record in enumerate(info["records"]):
            source = "coarse" if record["source"] == COARSE_SOURCE else record["source"]
            summary.samples[(record["split"], source)] += 1
            lines.append(json.dumps({"chunk": chunk_index, "index": index, **record}))
    if seen != total_chunks:
        raise RuntimeError(f"{out}: {seen} of {total_chunks} chunks present; run prepare again to finish")
    write_atomically(Path(out) / "manifest.jsonl", "\n".join(lines) + "\n")
    description = {
        "point_names": list(POINT_NAMES),
        "images": summary.images,
        "unreadable": summary.unreadable,
        "no_face": summary.no_face,
        "samples": {f"{split}/{source}": count for (split, source), count in sorted(summary.samples.items())},
        "label_point_sets": list(POINT_SETS),
    }
    write_atomically(Path(out) / "dataset.json", json.dumps(description, indent=1))
    return summary
