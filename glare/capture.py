"""Capture: frames from a webcam, a video file, an image or a folder of images.

Every source yields ``CapturedFrame`` objects (BGR uint8 frames with their time in seconds). A
webcam that stops delivering frames is reopened with backoff until it has delivered none for
``stall_timeout_s``, then the run ends with ``CameraStopped``; a video file ends the run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from glare.newest_frame import NewestFrameReader

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


class CaptureError(RuntimeError):
    pass


class CameraStopped(CaptureError):
    """A camera that worked delivered no frame for the stall timeout, though it was reopened."""


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
    """Waits between attempts to reopen a camera that stopped; the last one repeats. The backoff
    starts over only once a frame arrives, not when the camera merely opens again."""
    stall_timeout_s: float = 30.0
    """A camera that delivers no frame for this long, reopened or not, ends the run."""


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Any 8-bit OpenCV image (gray, with or without its channel axis, BGR or BGRA) as BGR."""
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class FrameSource(Protocol):
    """Where frames come from: a video file, photos, or a webcam."""

    fps: float
    """The source's own frame rate (nominal for a webcam); a file played live is paced at it."""
    live: bool
    """Whether frames come at the source's own pace (a webcam), not as fast as they are read (a file)."""
    photos: bool
    """Whether each frame is a photo of its own (no motion between frames to follow or smooth)."""
    reconnects: int
    """How many times the source was reopened after it stopped delivering."""
    skipped: int
    """Frames or files skipped as unreadable."""
    stale: int
    """Frames dropped because a newer one came before they were taken (a live source read in a thread)."""

    def frames(self) -> Iterator[CapturedFrame]: ...

    def close(self) -> None: ...


@dataclass
class VideoFileSource:
    path: Path
    fps: float = field(init=False)
    live = False
    photos = False
    reconnects = 0
    skipped = 0
    stale = 0

    def __post_init__(self) -> None:
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise CaptureError(f"cannot open video {self.path}: check the path and that it is a video OpenCV can decode")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or 30.0

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
    unreadable: list[Path] = field(default_factory=list)
    live = False
    photos = True
    reconnects = 0
    stale = 0

    @property
    def skipped(self) -> int:
        return len(self.unreadable)

    def frames(self) -> Iterator[CapturedFrame]:
        index = 0
        for path in self.paths:
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None or image.dtype != np.uint8:
                self.unreadable.append(path)
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
    """A webcam, reopened with backoff when it stops delivering frames (a USB cable pulled, a driver
    hiccup), until it has delivered none for ``stall_timeout_s``. Frames that are not 8-bit images
    are skipped and counted."""

    live = True
    photos = False
    stale = 0

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
        self.skipped = 0
        """Frames that were not 8-bit images."""
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
            capture.release()
            return None
        # Frames are taken as they come (see NewestFrameReader); a driver queue would only add latency.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, self.settings.width),
                            (cv2.CAP_PROP_FRAME_HEIGHT, self.settings.height),
                            (cv2.CAP_PROP_FPS, self.settings.fps)):
            if value:
                capture.set(prop, value)
        return capture

    def _read(self) -> tuple[bool, np.ndarray | None]:
        """(whether the camera answered, the frame as BGR uint8): an answer that is not an 8-bit
        image is (True, None), skipped and counted without reopening the camera."""
        if self._capture is None:
            return False, None
        ok, image = self._capture.read()
        if not ok or image is None:
            return False, None
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3) \
                or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)) or min(image.shape[:2]) < 2:
            if self.skipped == 0:
                self._log(f"camera {self.settings.index} sent a frame that is not an 8-bit image "
                          f"({getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', '')}); "
                          "skipping such frames")
            self.skipped += 1
            return True, None
        return True, as_bgr(image)

    def frames(self) -> Iterator[CapturedFrame]:
        start = last_frame = self._clock()
        index = failures = 0
        while True:
            answered, image = self._read()
            if image is not None:
                failures, last_frame = 0, self._clock()
                yield CapturedFrame(image, last_frame - start, index)
                index += 1
                continue
            stalled_s = self._clock() - last_frame
            if stalled_s >= self.settings.stall_timeout_s:
                self.close()
                raise CameraStopped(
                    f"camera {self.settings.index} delivered no usable frame for {stalled_s:.0f} s (reopened "
                    f"{self.reconnects} time(s)): check its cable and that no other program is using it, then start again")
            if answered:
                continue
            delays = self.settings.reconnect_delays_s
            # The last wait ends at the timeout, so a stopped camera ends the run on time.
            delay = min(delays[min(failures, len(delays) - 1)] if delays else 0.0,
                        self.settings.stall_timeout_s - stalled_s)
            failures += 1
            self._log(f"camera {self.settings.index} stopped delivering frames; reopening in {delay:g} s")
            self._wait(delay)
            self.close()
            self._capture = self._open()
            self.reconnects += self._capture is not None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


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
    return NewestFrameReader(CameraSource(settings))
