"""Capture: frames from a webcam, a video file, an image or a folder of images.

Every source yields ``CapturedFrame`` objects (BGR uint8 frames with their time in seconds). A
webcam that stops delivering frames is reopened with backoff; a video file ends the run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


class CaptureError(RuntimeError):
    pass


@dataclass(frozen=True)
class CapturedFrame:
    image: np.ndarray
    """BGR uint8, (H, W, 3)."""
    time_s: float
    index: int


@dataclass(frozen=True)
class CameraSettings:
    index: int = 0
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    reconnect_delays_s: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    """Waits between attempts to reopen a camera that stopped; after the last, the run ends."""


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Any 8-bit OpenCV image (gray, BGR or BGRA) as BGR."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


@dataclass
class VideoFileSource:
    path: Path
    fps: float = field(init=False)
    frame_count: int = field(init=False)

    def __post_init__(self) -> None:
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise CaptureError(f"cannot open video {self.path}: check the path and that it is a video OpenCV can decode")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or 30.0
        self.frame_count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))

    def frames(self) -> Iterator[CapturedFrame]:
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok:
                return
            yield CapturedFrame(as_bgr(image), index / self.fps, index)
            index += 1

    def close(self) -> None:
        self._capture.release()


@dataclass
class ImageSource:
    """One image or a folder of images, in name order; unreadable files are skipped and counted."""

    paths: list[Path]
    fps: float = 1.0
    skipped: list[Path] = field(default_factory=list)

    def frames(self) -> Iterator[CapturedFrame]:
        index = 0
        for path in self.paths:
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None or image.dtype != np.uint8:
                self.skipped.append(path)
                continue
            yield CapturedFrame(as_bgr(image), index / self.fps, index)
            index += 1

    def close(self) -> None:
        pass


def image_paths(path: Path, recursive: bool = False) -> list[Path]:
    """The images in a folder (by suffix, in path order; with ``recursive``, in its subfolders too), or the file itself."""
    if path.is_dir():
        candidates = path.rglob("*") if recursive else path.iterdir()
        return sorted(p for p in candidates if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    return [path]


class CameraSource:
    """A webcam, reopened with backoff when it stops delivering frames (a USB cable pulled, a driver hiccup)."""

    def __init__(
        self,
        settings: CameraSettings,
        opener: Callable[[int], cv2.VideoCapture] = cv2.VideoCapture,
        wait: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = print,
    ):
        self.settings = settings
        self._opener = opener
        self._wait = wait
        self._clock = clock
        self._log = log
        self.reconnects = 0
        self._capture = self._open()
        if self._capture is None:
            raise CaptureError(
                f"cannot open camera {settings.index}: check that it is connected and not used by another program, "
                "or pick another with --camera N, or run on a file with --input FILE"
            )
        self.fps = settings.fps or self._capture.get(cv2.CAP_PROP_FPS) or 30.0

    def _open(self) -> cv2.VideoCapture | None:
        capture = self._opener(self.settings.index)
        if not capture.isOpened():
            return None
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, self.settings.width),
                            (cv2.CAP_PROP_FRAME_HEIGHT, self.settings.height),
                            (cv2.CAP_PROP_FPS, self.settings.fps)):
            if value:
                capture.set(prop, value)
        return capture

    def _reopen(self) -> bool:
        self._capture.release()
        for delay in self.settings.reconnect_delays_s:
            self._log(f"camera {self.settings.index} stopped delivering frames; reopening in {delay:g} s")
            self._wait(delay)
            capture = self._open()
            if capture is not None:
                self._capture = capture
                self.reconnects += 1
                return True
        return False

    def frames(self) -> Iterator[CapturedFrame]:
        start = self._clock()
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok:
                if not self._reopen():
                    self._log(f"camera {self.settings.index} could not be reopened; stopping")
                    return
                continue
            yield CapturedFrame(as_bgr(image), self._clock() - start, index)
            index += 1

    def close(self) -> None:
        self._capture.release()


FrameSource = VideoFileSource | ImageSource | CameraSource


def open_source(camera: int | None = None, input_path: str | Path | None = None,
                camera_settings: CameraSettings | None = None) -> FrameSource:
    """A video file, image or folder when ``input_path`` is given, else the webcam ``camera`` (default 0)."""
    if input_path is not None:
        path = Path(input_path)
        if not path.exists():
            raise CaptureError(f"input {path} does not exist: pass a video file, an image or a folder of images")
        if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
            paths = image_paths(path)
            if not paths:
                raise CaptureError(f"folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            return ImageSource(paths)
        return VideoFileSource(path)
    settings = camera_settings or CameraSettings()
    if camera is not None:
        settings = dataclasses.replace(settings, index=camera)
    return CameraSource(settings)
