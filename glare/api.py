"""The flat calls for photos: ``find_pupils`` and ``apply_effect`` (``import glare`` exports them).

Conventions, for every call here:

- Images are NumPy arrays as OpenCV reads them: BGR uint8 of shape (H, W, 3). ``find_pupils``
  also takes gray (H, W) uint8.
- Points are (x, y) in image pixels, with pixel centres at whole numbers: (0, 0) is the middle of
  the top-left pixel, as in OpenCV and dlib.
- Eyes are named as the person's own: the *right* eye is the one on the image's left (a photo
  is not mirrored), dlib's landmarks 36-41.

The face finder and the eye model are loaded on the first call and kept for the next ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glare.capture import as_bgr
from glare.engine import AnalysisSettings, Engine, EngineSettings, validate_frame
from glare.faces import Box
from glare.gaze import GazeSettings
from glare.pipeline import Stopwatch
from glare.pupils import DEFAULT_LOCATOR, Pupil


@dataclass(frozen=True)
class FacePupils:
    """One face of a photo and its two pupils, in image pixels."""

    box: Box
    """The face's box: left, top, right, bottom."""
    right_eye: Pupil
    """The person's right eye (on the image's left): centre, iris radius in pixels, confidence in [0, 1]."""
    left_eye: Pupil
    """The person's left eye (on the image's right)."""
    landmarks: np.ndarray
    """dlib's 68 face landmarks, (68, 2) float64 (x, y)."""


@functools.lru_cache(maxsize=4)
def _engine(locator: str, model: str | None) -> Engine:
    """One engine per locator and model, kept: loading dlib's models and the eye model takes a while."""
    analysis = AnalysisSettings(locator=locator, model_path=Path(model) if model else None)
    return Engine(EngineSettings(analysis=analysis))


def find_pupils(image_bgr: np.ndarray, *, locator: str = DEFAULT_LOCATOR,
                model: str | Path | None = None) -> list[FacePupils]:
    """Every face in a photo and its pupils, in image pixels (see the module's conventions).

    ``locator`` is ``"model"`` (the bundled eye model, the most accurate), ``"meanshift"`` or
    ``"centroid"``; ``model`` is an exported ``eye_model.tflite`` to use instead of the bundled one.
    Faces are searched at full resolution (HOG with one upsampling: faces from about 40 px wide).
    A pupil the locator could not find has confidence 0 and the eye's landmark centre.
    """
    engine = _engine(locator, str(model) if model else None)
    gray = isinstance(image_bgr, np.ndarray) and image_bgr.dtype == np.uint8 and image_bgr.ndim == 2
    image = as_bgr(image_bgr) if gray else image_bgr
    validate_frame(image)
    faces = engine.analyser.analyse_photo(image, Stopwatch()).faces
    return [FacePupils(face.face.box, face.right_eye.pupil, face.left_eye.pupil, face.face.landmarks)
            for face in faces]


def apply_effect(image_bgr: np.ndarray, effect: str = "glare", *, direction: str = "left", intensity: float = 0.85,
                 squint: float = 0.35, seed: int = 0, locator: str = DEFAULT_LOCATOR,
                 model: str | Path | None = None) -> np.ndarray:
    """A copy of a photo with every face's eyes redrawn, at the effect's full strength.

    ``effect``: ``"glare"`` (a side-eye toward ``direction``, ``"left"`` or ``"right"`` as seen in the
    image; ``"alternate"`` gives the left one for a photo) or ``"anxious"`` (a nervous sideways
    glance, chosen by ``seed``); ``"none"`` returns an unchanged copy. ``intensity`` (0-1) is how far
    the irises go, ``squint`` (0-1) how far the upper lids come down. Closed eyes are left as they
    are. The output has the input's size; only pixels around the eyes change.
    """
    engine = _engine(locator, str(model) if model else None)
    engine.gaze_settings = GazeSettings(effect=effect, direction=direction, intensity=intensity,
                                        squint=squint, seed=seed)
    output, _ = engine.process_photo(image_bgr)
    return output
