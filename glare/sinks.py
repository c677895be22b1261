"""Sinks: where effect frames go. A window with hotkeys, a virtual camera, an H.264 video file.

Every sink takes BGR uint8 frames (the contract end to end) and converts only if its device
needs another format. Each is a context manager that always releases what it opened.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np


class SinkError(RuntimeError):
    pass


class FrameSink(Protocol):
    """Where effect frames go besides the window: a virtual camera, a recording."""

    def send(self, frame: np.ndarray, time_s: float) -> None:
        """One BGR uint8 frame, captured ``time_s`` seconds into the run."""
        ...

    def close(self) -> None: ...


class Action(Enum):
    QUIT = "quit"
    CYCLE_EFFECT = "cycle effect"
    TOGGLE_DEBUG = "toggle debug"
    TOGGLE_MIRROR = "toggle mirror"
    TOGGLE_RECORDING = "start/stop recording"
    TOGGLE_PAUSE = "pause"
    TOGGLE_FPS = "toggle FPS"


HOTKEYS: dict[int, Action] = {
    ord("q"): Action.QUIT,
    27: Action.QUIT,  # Esc
    ord("e"): Action.CYCLE_EFFECT,
    ord("d"): Action.TOGGLE_DEBUG,
    ord("m"): Action.TOGGLE_MIRROR,
    ord("r"): Action.TOGGLE_RECORDING,
    ord(" "): Action.TOGGLE_PAUSE,
    ord("f"): Action.TOGGLE_FPS,
}
HELP_LINE = "q quit  e effect  d debug  m mirror  r record  space pause  f fps"


def display_available() -> bool:
    """Whether a window can be opened: always on Windows and macOS, with a display server on Linux."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


PREVIEW_MAX_SIZE = (1280, 720)
"""The preview opens at the video's size, shrunk to fit this: a laptop screen less its panels
(OpenCV cannot tell the screen's size). The user can still resize it; the picture keeps its ratio."""


def preview_size(frame_size: tuple[int, int], max_size: tuple[int, int] = PREVIEW_MAX_SIZE) -> tuple[int, int]:
    """The window size (width, height) for frames of ``frame_size``: as large, or shrunk to fit ``max_size``."""
    width, height = frame_size
    scale = min(1.0, max_size[0] / width, max_size[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class WindowSink:
    """An OpenCV window; ``show`` returns the hotkey actions pressed since the last frame."""

    def __init__(self, title: str = "glare"):
        if not display_available():
            raise SinkError("no display to open a window on: run with --no-window (and --record or --virtual-camera)")
        self.title = title
        self._was_visible = False
        self._size: tuple[int, int] | None = None
        # GUI_NORMAL: no Qt toolbar or status bar, only the picture.
        cv2.namedWindow(self.title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)

    def show(self, frame: np.ndarray, wait_ms: int = 1) -> list[Action]:
        frame_size = (frame.shape[1], frame.shape[0])
        if frame_size != self._size:
            # A new source size (the first frame, a reopened camera) sizes the window to it.
            cv2.resizeWindow(self.title, *preview_size(frame_size))
            self._size = frame_size
        cv2.imshow(self.title, frame)
        key = cv2.waitKey(wait_ms)
        actions = []
        if key != -1 and (key & 0xFF) in HOTKEYS:
            actions.append(HOTKEYS[key & 0xFF])
        # Closing the window with its title-bar button means quit too. A window may be mapped a few
        # frames late, so only one that was visible and is no longer counts as closed.
        visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        if self._was_visible and not visible:
            actions.append(Action.QUIT)
        self._was_visible |= visible
        return actions

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)

    def __enter__(self) -> WindowSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


VIRTUAL_CAMERA_FIX = {
    "linux": "load the v4l2loopback kernel module: sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=glare",
    "win32": "install OBS Studio (version 26 or later) and start its virtual camera once, or install Unity Capture",
    "darwin": "install OBS Studio (version 30 or later) and start its virtual camera once to install the camera extension",
}


class VirtualCameraSink:
    """Frames to a virtual camera that Zoom, Meet or OBS can pick, through pyvirtualcam."""

    def __init__(self, width: int, height: int, fps: float, backend: str | None = None, device: str | None = None):
        import pyvirtualcam

        try:
            self._camera = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, backend=backend, device=device
            )
        except (RuntimeError, ValueError) as error:
            fix = VIRTUAL_CAMERA_FIX.get(sys.platform, "install a virtual camera (OBS Studio's or v4l2loopback)")
            raise SinkError(f"no virtual camera device could be opened ({error}). To fix: {fix}") from error
        self.device = self._camera.device
        self.size = (width, height)

    def send(self, frame: np.ndarray, time_s: float = 0.0) -> None:
        """Sent at once: the camera's consumers pace themselves, and a late frame is better than none."""
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        self._camera.send(np.ascontiguousarray(frame))

    def close(self) -> None:
        self._camera.close()

    def __enter__(self) -> VirtualCameraSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class RecordingSettings:
    crf: int = 20
    """H.264 quality: lower is better and larger; 18-23 looks good."""
    preset: str = "veryfast"


MAX_GAP_FILL_S = 1.0
"""A gap between captured frames up to this long is filled by holding the last frame; a longer one
(a pause, a camera being reopened) is cut, so the clip does not freeze for its length."""


class VideoRecorder:
    """An MP4 that browsers and players open: H.264 in yuv420p, its time true to the capture's.

    The file has a constant frame rate (``fps``, the source's), and frames are placed by their
    capture time: a webcam that delivers fewer frames than it promises (15 of a nominal 30 in dim
    light) has each frame held for as long as it was on screen, and one that delivers more has the
    surplus dropped, so the clip plays at the speed it was filmed.

    OpenCV's own writer cannot encode H.264 in its PyPI builds, so frames go through the ffmpeg
    that ``imageio-ffmpeg`` ships. The MP4 is fragmented, a fragment at each keyframe and a
    keyframe each half second, written out at once (no lookahead, packets flushed): a recording
    cut short by a crash or a kill still plays, losing less than its last second, where a plain
    MP4 (its index written at the end) would not open at all. The price is a somewhat larger file.
    """

    def __init__(self, path: Path, width: int, height: int, fps: float, settings: RecordingSettings = RecordingSettings()):
        import imageio_ffmpeg

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.size = (width, height)
        self.fps = fps
        self.frames_written = 0
        """Frames in the file: held copies included, dropped frames not."""
        self.frames_dropped = 0
        """Frames that came sooner than the file's frame rate has room for."""
        self._first_time_s: float | None = None
        self._cut_s = 0.0
        self._last: np.ndarray | None = None
        self._writer = imageio_ffmpeg.write_frames(
            str(self.path), self.size, fps=fps, codec="libx264", pix_fmt_in="bgr24", pix_fmt_out="yuv420p",
            macro_block_size=1, quality=None,
            # yuv420p needs even sizes: pad odd frames by one pixel rather than resample them.
            output_params=["-crf", str(settings.crf), "-preset", settings.preset, "-tune", "zerolatency",
                           "-g", str(max(int(round(fps / 2)), 1)),
                           "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-flush_packets", "1",
                           "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"],
        )
        self._writer.send(None)

    def send(self, frame: np.ndarray, time_s: float) -> None:
        """Adds ``frame``, captured at ``time_s`` seconds, at its place in the clip's time."""
        if (frame.shape[1], frame.shape[0]) != self.size:
            raise SinkError(f"recording is {self.size[0]}x{self.size[1]} but a frame is {frame.shape[1]}x{frame.shape[0]}")
        if self._first_time_s is None:
            self._first_time_s = time_s
        # Half up, not Python's half to even, so a steady rate keeps a steady pattern of holds and drops.
        slot = math.floor((time_s - self._first_time_s - self._cut_s) * self.fps + 0.5)
        if slot - self.frames_written > MAX_GAP_FILL_S * self.fps:
            # A long gap: cut it rather than hold the last frame through it.
            self._cut_s += (slot - self.frames_written) / self.fps
            slot = self.frames_written
        if slot < self.frames_written:
            self.frames_dropped += 1
            return
        while self._last is not None and self.frames_written < slot:
            self._writer.send(self._last)
            self.frames_written += 1
        self._last = np.ascontiguousarray(frame)
        self._writer.send(self._last)
        self.frames_written += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
