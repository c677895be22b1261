"""Accuracy of pupil locators against hand-labelled eye centres.

The score is the normalised error of Jesorsky et al.: per face, the worse of the two eyes'
errors over the true inter-ocular distance, reported as the share of faces within 0.025, 0.05,
0.10 and 0.25 and as a mean. Faces are found as the runtime finds them (dlib HOG with one
upsampling, the detection that overlaps the labelled box most); where dlib finds none, the
labelled box stands in, so that every labelled face is scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.eye_labels import LabelledFace, normalised_error
from glare.faces import Detector, FaceFinder
from glare.pipeline import locate_pupils
from glare.pupils import PupilLocator

THRESHOLDS = (0.025, 0.05, 0.10, 0.25)


@dataclass
class EvalReport:
    methods: list[str]
    errors: dict[str, list[float]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    """Per scored face, its image size as 'WxH', for the breakdown by photo size."""
    unreadable: list[str] = field(default_factory=list)
    found_by: Counter[Detector] = field(default_factory=Counter)
    """Scored faces per detector that found them: HOG, the CNN where HOG found none, or neither (the
    labelled box was used)."""

    @property
    def face_count(self) -> int:
        return len(self.groups)

    def shares(self, method: str, group: str | None = None) -> list[float]:
        errors = self._select(method, group)
        return [float(np.mean(errors <= t)) for t in THRESHOLDS]

    def mean_error(self, method: str, group: str | None = None) -> float:
        return float(np.mean(self._select(method, group)))

    def _select(self, method: str, group: str | None) -> np.ndarray:
        errors = np.asarray(self.errors[method])
        if group is None:
            return errors
        return errors[np.asarray(self.groups) == group]


def read_for_scoring(path: Path, grayscale_copy: bool) -> np.ndarray | None:
    """The photo as gray uint8; with ``grayscale_copy``, as a grayscale JPEG copy of it would read.

    Grayscale copies (LFW's, a webcam in low light) went through somebody else's conversion and a
    second JPEG compression; here the copy weighs the three channels equally (not OpenCV's
    luma weights) and is saved at JPEG quality 70, so a locator that leaned on one exact
    conversion or on clean pixels would show it.
    """
    if not grayscale_copy:
        return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    colour = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if colour is None:
        return None
    gray = np.round(colour.astype(np.float32).mean(axis=2)).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else None


def evaluate(
    faces: Iterable[LabelledFace],
    locators: Sequence[PupilLocator],
    finder: FaceFinder | None = None,
    progress: Callable[[int], None] | None = None,
    grayscale_copies: bool = False,
) -> EvalReport:
    """Score each locator on each labelled face (or on a grayscale JPEG copy of its photo)."""
    finder = finder or FaceFinder()
    report = EvalReport([locator.name for locator in locators])
    for method in report.methods:
        report.errors[method] = []
    for index, face in enumerate(faces):
        if progress:
            progress(index)
        image = read_for_scoring(face.image, grayscale_copies)
        if image is None:
            report.unreadable.append(str(face.image))
            continue
        found, detector = finder.face_for_label(image, face.box)
        report.found_by[detector] += 1
        for locator in locators:
            [pupils] = locate_pupils(image, [found], locator)
            report.errors[locator.name].append(
                normalised_error(face, pupils.right_eye.pupil.centre, pupils.left_eye.pupil.centre))
        report.groups.append(f"{image.shape[1]}x{image.shape[0]}")
    return report


def format_table(report: EvalReport) -> str:
    """A plain-text table: one row per method (and per photo size), shares within each threshold."""
    name_width = max([12, *(len(method) + 2 for method in report.methods)])
    header = f"{'method':<{name_width}}{'faces':>7}" + "".join(f"{'e<=' + str(t):>10}" for t in THRESHOLDS) + f"{'mean e':>9}"
    lines = [header, "-" * len(header)]
    groups: list[str | None] = [None]
    if len(set(report.groups)) > 1:
        groups += sorted(set(report.groups))
    for group in groups:
        if group is not None:
            lines.append(f"photos of {group}:")
        for method in report.methods:
            count = len(report._select(method, group))
            shares = "".join(f"{share * 100:>9.1f}%" for share in report.shares(method, group))
            lines.append(f"{method:<{name_width}}{count:>7}{shares}{report.mean_error(method, group):>9.4f}")
    lines.append(
        f"{report.face_count} faces scored; found by HOG {report.found_by['hog']}, by the CNN where HOG found none "
        f"{report.found_by['cnn']}, by neither (labelled box used) {report.found_by['label']}; "
        f"{len(report.unreadable)} unreadable images skipped"
    )
    return "\n".join(lines)


def save_cumulative_plot(report: EvalReport, path: Path, title: str = "Pupil localisation") -> None:
    """The cumulative error distribution per method, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4.2), dpi=120)
    grid = np.linspace(0.0, 0.25, 251)
    for method in report.methods:
        errors = np.sort(np.asarray(report.errors[method]))
        axes.plot(grid, np.searchsorted(errors, grid, side="right") / max(len(errors), 1) * 100, label=method)
    for threshold in THRESHOLDS:
        axes.axvline(threshold, color="0.85", linewidth=0.8, zorder=0)
    axes.set_xlabel("normalised error e (worse eye / inter-ocular distance)")
    axes.set_ylabel("faces within e (%)")
    axes.set_xlim(0, 0.25)
    axes.set_ylim(0, 100)
    axes.set_title(f"{title} ({report.face_count} faces)")
    axes.legend(loc="lower right")
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
