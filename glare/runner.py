"""The live loop: frames from a source, through the engine, to a window, a virtual camera and a recording."""

from __future__ import annotations

import dataclasses
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.capture import CameraSettings, open_source
from glare.engine import AnalysisSettings, Engine, EngineSettings
from glare.faces import TrackerSettings
from glare.files import free_path
from glare.gaze import DIRECTIONS, EFFECTS, GazeSettings
from glare.landmark_predictor import PredictorTrim
from glare.overlay import draw_debug, draw_text_lines
from glare.results import FrameResult
from glare.pupils import DEFAULT_LOCATOR, LOCATORS
from glare.sinks import HELP_LINE, Action, FrameSink, SinkError, VideoRecorder, VirtualCameraSink, WindowSink


class SettingsError(ValueError):
    """A setting (flag or config key) with a value of the wrong type or out of range."""


def _setting(default: object, kind: type | tuple[type, ...], allowed: str,
             check: Callable[[object], bool] | None = None) -> object:
    """A RunSettings field with its type, what is allowed (in words) and an optional range check."""
    return field(default=default, metadata={"kind": kind, "allowed": allowed, "check": check})


def _choice(options: tuple[str, ...]) -> Callable[[object], bool]:
    return lambda value: value in options


def _at_least(low: float) -> Callable[[object], bool]:
    return lambda value: value >= low


def _fraction(value: object) -> bool:
    return 0.0 <= value <= 1.0


@dataclass
class RunSettings:
    """Everything ``glare run`` takes; a TOML config file takes the same keys. Every value, from flags
    or a file, is checked here against its type and range (``SettingsError`` names the key)."""

    camera: int | None = _setting(None, int, "a webcam index: 0, 1, 2...", _at_least(0))
    input: str | None = _setting(None, str, "a path to a video file, an image or a folder of images")
    effect: str = _setting("glare", str, f"one of {', '.join(EFFECTS)}", _choice(EFFECTS))
    direction: str = _setting("left", str, f"one of {', '.join(DIRECTIONS)}", _choice(DIRECTIONS))
    intensity: float = _setting(0.85, (int, float), "a number from 0 to 1", _fraction)
    squint: float = _setting(0.35, (int, float), "a number from 0 to 1", _fraction)
    seed: int = _setting(0, int, "a whole number")
    locator: str = _setting(DEFAULT_LOCATOR, str, f"one of {', '.join(LOCATORS)}", _choice(tuple(LOCATORS)))
    model: str | None = _setting(None, str, "a path to an eye_model.tflite made by glare-train export",
                                 lambda value: Path(value).is_file())
    """An eye model to use instead of the bundled one (the ``model`` locators)."""
    landmark_model: str | None = _setting(None, str, "a path to a .dat made by glare-train landmarks",
                                          lambda value: Path(value).is_file())
    """A landmark predictor to follow faces with instead of dlib's."""
    trimmed_landmarks: bool = _setting(False, bool, "true or false")
    """Follow faces walking fewer of the trees of dlib's predictor: a little faster; with them all, eyes
    behind a hand are read as closed more reliably (``TrackerSettings.landmark_trim``)."""
    virtual_camera: bool = _setting(False, bool, "true or false")
    record: str | None = _setting(None, str, "a path to an .mp4 file", lambda value: value.strip() != "")
    window: bool = _setting(True, bool, "true or false")
    mirror: bool = _setting(False, bool, "true or false")
    width: int | None = _setting(None, int, "a width in pixels, 16 or more", _at_least(16))
    height: int | None = _setting(None, int, "a height in pixels, 16 or more", _at_least(16))
    fps: float | None = _setting(None, (int, float), "frames per second, above 0 and at most 240",
                                 lambda value: 0 < value <= 240)
    debug: bool = _setting(False, bool, "true or false")
    """Start with the debug overlay (landmarks, pupils, timings) on the window; ``d`` toggles it."""
    show_fps: bool = _setting(True, bool, "true or false")
    overwrite: bool = _setting(False, bool, "true or false")
    """Whether a recording may replace an existing file; without it each recording takes a free name."""

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None and spec.default is None:
                continue
            kind, check = spec.metadata["kind"], spec.metadata["check"]
            # bool is an int to Python, but "true" is no webcam index and 1 is no switch.
            right_type = isinstance(value, kind) and (isinstance(value, bool) == (kind is bool))
            if not right_type or (check is not None and not check(value)):
                raise SettingsError(f"setting {spec.name.replace('_', '-')} = {value!r} is not allowed: "
                                    f"use {spec.metadata['allowed']}")

    def analysis(self) -> AnalysisSettings:
        tracker = TrackerSettings(landmark_model=Path(self.landmark_model) if self.landmark_model else None,
                                  landmark_trim=PredictorTrim() if self.trimmed_landmarks else None)
        return AnalysisSettings(tracker, self.locator, Path(self.model) if self.model else None)

    def gaze(self) -> GazeSettings:
        return GazeSettings(effect=self.effect, direction=self.direction, intensity=self.intensity,
                            squint=self.squint, seed=self.seed)


def load_config(path: Path) -> dict:
    """The settings in a TOML file, keys as ``glare run``'s flags (``virtual-camera`` or ``virtual_camera``)."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"config file {path} is not valid TOML: {error}") from None
    known = {f.name for f in dataclasses.fields(RunSettings)}
    config = {key.replace("-", "_"): value for key, value in raw.items()}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"config file {path} has unknown keys {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
    return config


@dataclass
class RunSummary:
    frames: int = 0
    frames_with_faces: int = 0
    milliseconds: list[float] = field(default_factory=list)
    recordings: list[tuple[str, int]] = field(default_factory=list)
    """(path, frames written) per recording made."""
    camera_reconnects: int = 0
    skipped: int = 0
    """Unreadable files, or camera frames that were not images."""
    stale: int = 0
    """Camera frames dropped because a newer one came before the effect was ready for them."""
    stopped_by_user: bool = False

    def describe(self) -> str:
        median = float(np.median(self.milliseconds)) if self.milliseconds else 0.0
        lines = [f"{self.frames} frames, faces in {self.frames_with_faces}, median {median:.1f} ms per frame for the effect"]
        lines += [f"recording: {path} ({frames} frames)" for path, frames in self.recordings]
        if self.camera_reconnects:
            lines.append(f"the camera was reopened {self.camera_reconnects} time(s)")
        if self.skipped:
            lines.append(f"{self.skipped} unreadable image(s) or frame(s) skipped")
        if self.stale:
            lines.append(f"{self.stale} camera frame(s) dropped for newer ones (the effect ran slower than the camera)")
        return "\n".join(lines)


def _next_effect(current: str) -> str:
    return EFFECTS[(EFFECTS.index(current) + 1) % len(EFFECTS)]


def default_recording_path() -> str:
    return time.strftime("glare-%Y%m%d-%H%M%S.mp4")


class Session:
    """One run: holds the toggles the hotkeys change and the sinks opened for them."""

    def __init__(self, settings: RunSettings, log: Callable[[str], None] = print,
                 virtual_camera_backend: str | None = None, fps: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, wait: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.log = log
        # The overlay belongs to the window, the effect to every output.
        self.show_debug = settings.debug
        self.effect = settings.effect
        self.engine = Engine(EngineSettings(settings.analysis(), settings.gaze()))
        self.mirror = settings.mirror
        self.paused = False
        self.show_fps = settings.show_fps
        self.window: WindowSink | None = None
        """Opened with the first frame, so a source that fails to open leaves no window behind."""
        self.virtual_camera: VirtualCameraSink | None = None
        self.virtual_camera_backend = virtual_camera_backend
        self.recorder: VideoRecorder | None = None
        self.summary = RunSummary()
        self.fps = fps
        """Frame rate for the virtual camera and recordings; ``run`` takes it from the source."""
        self.last_output: np.ndarray | None = None
        self.last_result: FrameResult | None = None
        self._recorded_paths: set[Path] = set()
        self._frame_times: list[float] = []
        self._clock, self._wait = clock, wait
        self._file_clock_start: float | None = None
        """When a played file's time 0 was (or would have been), by ``clock``."""

    def _set_effect(self, effect: str) -> None:
        self.effect = effect
        self.engine.gaze_settings = dataclasses.replace(self.engine.gaze_settings, effect=effect)
        self.log(f"effect: {effect}")

    def _start_recording(self, requested: str, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        path = free_path(Path(requested), self._recorded_paths, self.settings.overwrite)
        self._recorded_paths.add(path)
        self.recorder = VideoRecorder(path, width, height, self.fps)
        self.log(f"recording to {path}")

    def _stop_recording(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            if self.recorder.frames_written == 0:
                # Started and stopped between two frames: an empty MP4 would not open anywhere.
                self.recorder.path.unlink(missing_ok=True)
                self.log("recording stopped before any frame: nothing written")
            else:
                self.summary.recordings.append((str(self.recorder.path), self.recorder.frames_written))
                self.log(f"recorded {self.recorder.frames_written} frames to {self.recorder.path}")
            self.recorder = None

    def _outputs(self) -> list[FrameSink]:
        return [sink for sink in (self.virtual_camera, self.recorder) if sink is not None]

    def handle(self, action: Action, frame: np.ndarray) -> bool:
        """Apply one hotkey; False means quit."""
        self.log(f"hotkey: {action.value}")
        if action is Action.QUIT:
            self.summary.stopped_by_user = True
            return False
        if action is Action.CYCLE_EFFECT:
            self._set_effect(_next_effect(self.effect))
        elif action is Action.TOGGLE_DEBUG:
            self.show_debug = not self.show_debug
            self.log(f"debug overlay: {'on' if self.show_debug else 'off'}")
        elif action is Action.TOGGLE_MIRROR:
            self.mirror = not self.mirror
        elif action is Action.TOGGLE_RECORDING:
            if self.recorder is None:
                self._start_recording(self.settings.record or default_recording_path(), frame)
            else:
                self._stop_recording()
        elif action is Action.TOGGLE_PAUSE:
            self.paused = not self.paused
        elif action is Action.TOGGLE_FPS:
            self.show_fps = not self.show_fps
        return True

    def _window_view(self, frame: np.ndarray) -> np.ndarray:
        """The window's own copy with overlays: the camera and recording get the clean frame."""
        view = frame.copy()
        if self.show_debug and self.last_result is not None:
            draw_debug(view, self.last_result)
        lines = []
        if self.show_fps and len(self._frame_times) > 1:
            span = self._frame_times[-1] - self._frame_times[0]
            fps = (len(self._frame_times) - 1) / span if span > 0 else 0.0
            lines.append(f"{fps:.0f} fps  effect: {self.effect}" + ("  REC" if self.recorder else "") + ("  PAUSED" if self.paused else ""))
        lines.append(HELP_LINE)
        draw_text_lines(view, lines)
        return view

    def step(self, image: np.ndarray, time_s: float, photo: bool = False, in_place: bool = False) -> bool:
        """One frame through the engine and out to every sink; False when the user quits. A ``photo``
        stands alone: the effect at full strength, nothing carried over from the frames before. With
        ``in_place`` the effect is drawn into ``image`` itself, for a caller with no further use for it
        (it saves copying the whole frame)."""
        if self.mirror:
            image = cv2.flip(image, 1)
        output, result = (self.engine.process_photo(image) if photo
                          else self.engine.process(image, time_s, in_place=in_place))
        self.last_output, self.last_result = output, result
        self.summary.frames += 1
        self.summary.frames_with_faces += bool(result.faces)
        self.summary.milliseconds.append(result.total_ms)
        if self.settings.virtual_camera:
            if self.virtual_camera is None:
                height, width = output.shape[:2]
                self.virtual_camera = VirtualCameraSink(width, height, self.fps, backend=self.virtual_camera_backend)
                self.log(f"virtual camera: {self.virtual_camera.device}")
        if self.settings.record and self.summary.frames == 1:
            self._start_recording(self.settings.record, output)
        for sink in self._outputs():
            sink.send(output, time_s)
        if not self.settings.window:
            return True
        if self.window is None:
            self.window = WindowSink()
        self._frame_times = (self._frame_times + [time.perf_counter()])[-30:]
        for action in self.window.show(self._window_view(output)):
            if not self.handle(action, output):
                return False
        while self.paused:
            for action in self.window.show(self._window_view(output), wait_ms=30):
                if not self.handle(action, output):
                    return False
        return True

    def pace(self, time_s: float) -> None:
        """Holds a file's frame until its time comes, so that a window or a virtual camera plays the file
        at its own rate. A frame that comes late is not waited for, and nothing catches up by skipping:
        the file's clock starts again from it (after a slow frame, or a pause)."""
        now = self._clock()
        due = now if self._file_clock_start is None else self._file_clock_start + time_s
        if due > now:
            self._wait(due - now)
        else:
            self._file_clock_start = now - time_s

    def run(self) -> RunSummary:
        s = self.settings
        source = open_source(s.camera, s.input, CameraSettings(width=s.width, height=s.height, fps=s.fps))
        self.fps = float(s.fps or source.fps)
        try:
            # A webcam comes at its own pace; a file is played at its rate only to someone watching.
            paced = not source.live and (s.window or s.virtual_camera)
            for captured in source.frames():
                if paced:
                    self.pace(captured.time_s)
                # Each captured frame is a fresh array that nothing else reads: the effect is drawn into it.
                if not self.step(captured.image, captured.time_s, photo=source.photos, in_place=True):
                    break
        finally:
            source.close()
            self.close()
        self.summary.camera_reconnects = source.reconnects
        self.summary.skipped = source.skipped
        self.summary.stale = source.stale
        return self.summary

    def close(self) -> None:
        self._stop_recording()
        if self.virtual_camera is not None:
            self.virtual_camera.close()
            self.virtual_camera = None
        if self.window is not None:
            self.window.close()
            self.window = None


def run(settings: RunSettings, log: Callable[[str], None] = print, virtual_camera_backend: str | None = None) -> RunSummary:
    if not settings.window and not settings.virtual_camera and not settings.record:
        raise SinkError("nothing to show the effect on: drop --no-window, or add --record OUT.mp4 or --virtual-camera")
    return Session(settings, log, virtual_camera_backend).run()
