"""The engine: one object, configured once, ``process(frame)`` per frame, a typed result.

It wires the stages in the frame's order (faces -> eyes -> pupils -> gaze -> render) and times
each one, so that the benchmark and the debug overlay can say where the milliseconds go.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glare.eyes import EyeShape
from glare.faces import REACQUIRE_S, FaceFinder, FaceTracker, TrackerSettings
from glare.gaze import Gaze, GazeDirector, GazeSettings
from glare.pupils import DEFAULT_LOCATOR, Pupil, PupilLocator, make_locator
from glare.iris import IrisSize, eye_distance_px, fit_iris
from glare.openness import CLOSED_OPENNESS, OpennessGate
from glare.pipeline import Stopwatch, analyse_photo, locate_pupils
from glare.render import EyeRedraw, iris_target, render_face
from glare.render import warm_up as warm_up_renderer
from glare.sclera_check import sclera_over_skin
from glare.sclera_check import warm_up as warm_up_sclera_check
from glare.results import EyeResult, FaceResult, FrameResult, IrisMove
from glare.smoothing import OneEuroFilter


def validate_frame(frame: np.ndarray) -> None:
    """Frames are BGR uint8 (H, W, 3) end to end; anything else is refused with what was expected."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{type(frame).__name__}" if not isinstance(frame, np.ndarray) else f"{frame.dtype} {frame.shape}"
        raise ValueError(f"expected a BGR uint8 frame of shape (H, W, 3), got {got}; convert with cv2.cvtColor first")


@dataclass
class AnalysisSettings:
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    locator: str = DEFAULT_LOCATOR
    model_path: Path | None = None
    """An exported eye model to use instead of the bundled one (the ``model`` locator only)."""
    opencv_threads: int | None = 1
    """OpenCV's threads for the whole process (``cv2.setNumThreads``), set when the analyser is made; None
    leaves OpenCV's own choice. One: a frame's OpenCV calls are small (the eye crops' warps, the iris rings'
    and the squint's remaps), and split over OpenCV's worker threads they waited for a core whenever the face
    search's worker or the render's helper held the other one: 4-5 ms on 4-9 frames a pass of
    woman_expressions.mp4 with two threads, 0-2 with one, at the same median (docs/measurements.md)."""


class FaceAnalyser:
    """Faces, eyes and pupils of each frame of a live video (the first three stages)."""

    def __init__(self, settings: AnalysisSettings | None = None, locator: PupilLocator | None = None,
                 finder: FaceFinder | None = None):
        self.settings = settings or AnalysisSettings()
        if self.settings.opencv_threads is not None:
            cv2.setNumThreads(self.settings.opencv_threads)
        self.tracker = FaceTracker(self.settings.tracker, finder)
        self.locator = locator or make_locator(self.settings.locator, self.settings.model_path)
        self._photo_finder: FaceFinder | None = None
        self._index = 0

    def analyse(self, frame: np.ndarray, time_s: float, stopwatch: Stopwatch) -> FrameResult:
        with stopwatch("faces"):
            faces = self.tracker.update(frame, time_s)
        result = FrameResult(self._index, time_s, locate_pupils(frame, faces, self.locator, stopwatch),
                             stopwatch.timings_ms)
        self._index += 1
        return result

    def analyse_photo(self, image: np.ndarray, stopwatch: Stopwatch) -> FrameResult:
        """A photo on its own: searched at full resolution (the CNN where HOG finds no face), fitted with
        dlib's own landmark model (accuracy before speed), nothing taken from or left for other frames."""
        if self._photo_finder is None:
            # The tracker's finder where it has dlib's whole model: one copy of 99 MB, not two.
            self._photo_finder = self.tracker.finder if self.tracker.finder.has_dlib_model else FaceFinder()
        return FrameResult(0, 0.0, analyse_photo(image, self._photo_finder, self.locator, stopwatch),
                           stopwatch.timings_ms)


@dataclass
class EngineSettings:
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    gaze: GazeSettings = field(default_factory=GazeSettings)
    pupil_smoothing_hz: float = 1.5
    """Rest cut-off of the One Euro filter on each found pupil: lower is steadier."""
    iris_size_hold_s: float = 1.0
    """Time constant over which the image refines a face's iris size (it changes only with the person)."""


@dataclass
class _FaceEffectState:
    """What the effect keeps per tracked face between frames."""

    gate: OpennessGate
    iris: IrisSize


class Engine:
    """The live effect: ``with Engine(settings) as engine: frame, result = engine.process(frame)``.

    Frames are BGR uint8 (H, W, 3); the input frame is never changed. Give each frame's capture
    time in seconds for smooth motion at any frame rate; without it the engine assumes 30 fps.
    """

    def __init__(self, settings: EngineSettings | None = None, locator: PupilLocator | None = None,
                 finder: FaceFinder | None = None):
        """``locator`` and ``finder`` may be shared between engines (their models are loaded once)."""
        self.settings = settings or EngineSettings()
        self.analyser = FaceAnalyser(self.settings.analysis, locator, finder)
        self.director = GazeDirector(self.settings.gaze)
        self._pupil_filters: dict[tuple[int, str], OneEuroFilter] = {}
        self._face_states: dict[int, _FaceEffectState] = {}
        self._last_seen: dict[int, float] = {}
        """When each face was last in a frame (seconds), for as long as its effect is kept."""
        self._frames = 0
        seconds = warm_up_renderer() + warm_up_sclera_check()
        if seconds > 1.0:
            print(f"glare: compiled the renderer in {seconds:.1f} s (once; later runs load it from the cache)",
                  file=sys.stderr)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.analyser.tracker.reset()

    @property
    def gaze_settings(self) -> GazeSettings:
        return self.director.settings

    @gaze_settings.setter
    def gaze_settings(self, settings: GazeSettings) -> None:
        """Switch effect (or direction, intensity...) live; the motion eases over from where it is."""
        self.director.settings = settings

    def process(self, frame: np.ndarray, time_s: float | None = None,
                in_place: bool = False) -> tuple[np.ndarray, FrameResult]:
        """The frame with the effect applied and what was found in it.

        The output is a new array, or with ``in_place`` the frame itself, drawn into: for a caller that
        owns the frame and needs no untouched copy (the live loop), it saves copying the whole frame,
        0.2-0.5 ms at 1080p. (The render reads each eye before it writes any.)
        """
        validate_frame(frame)
        if in_place and not frame.flags.writeable:
            raise ValueError("in_place needs a writeable frame: pass a copy, or call process without in_place")
        if time_s is None:
            time_s = self._frames / 30.0
        self._frames += 1
        stopwatch = Stopwatch()
        analysed = self.analyser.analyse(frame, time_s, stopwatch)
        moving = self.director.settings.effect != "none"
        with stopwatch("gaze"):
            steadied = [self._steady_pupils(face, time_s) for face in analysed.faces]
            self._last_seen.update((face.face.track_id, time_s) for face in analysed.faces)
            # A face lost for a moment (a hand across it) comes back under its id (``REACQUIRE_S``): its
            # effect goes on from where it was, where starting over made it vanish and fade in again.
            self._last_seen = {track_id: seen for track_id, seen in self._last_seen.items()
                               if 0.0 <= time_s - seen <= REACQUIRE_S}
            kept = set(self._last_seen)
            self.director.forget_all_but(kept)
            self._pupil_filters = {key: f for key, f in self._pupil_filters.items() if key[0] in kept}
            self._face_states = {key: state for key, state in self._face_states.items() if key in kept}
        with stopwatch("render"):
            output = frame if in_place else frame.copy()
            faces = []
            for face in steadied:
                # Every face's gaze is asked for, even with no effect: it eases back to the real one.
                gaze = self.director.gaze(face.face.track_id, time_s)
                if moving or gaze.strength > 0.0:
                    state = self._face_states.get(face.face.track_id)
                    if state is None:
                        state = self._face_states[face.face.track_id] = _FaceEffectState(
                            OpennessGate(), IrisSize(hold_s=self.settings.iris_size_hold_s))
                    face = self._render_face(frame, output, face, gaze, state, time_s)
                faces.append(face)
        return output, FrameResult(analysed.index, time_s, faces, stopwatch.timings_ms)

    def process_photo(self, image: np.ndarray) -> tuple[np.ndarray, FrameResult]:
        """A photo with the effect at full strength (a new array) and what was found in it.

        The photo stands alone: its faces are searched at full resolution, the gaze is where the
        effect settles (no easing, no fade-in), and nothing is carried over from or to other frames,
        so photos of a folder never pass for one scene.
        """
        validate_frame(image)
        stopwatch = Stopwatch()
        analysed = self.analyser.analyse_photo(image, stopwatch)
        with stopwatch("render"):
            output = image.copy()
            faces = []
            for face in analysed.faces:
                gaze = self.director.settled_gaze(face.face.track_id)
                if gaze.strength > 0.0:
                    state = _FaceEffectState(OpennessGate(rise_s=0.0, sclera_prior=math.nan),
                                             IrisSize(hold_s=self.settings.iris_size_hold_s))
                    face = self._render_face(image, output, face, gaze, state, 0.0)
                faces.append(face)
        return output, FrameResult(analysed.index, 0.0, faces, stopwatch.timings_ms)

    def _steady_pupils(self, face: FaceResult, time_s: float) -> FaceResult:
        """Found pupils through a One Euro filter per eye, so the moved iris does not shimmer.

        What is smoothed is where the pupil sits in its eye (from the landmarks' centre, themselves
        smoothed by the tracker), not where it sits in the frame: a moving head then carries its pupils
        with it (a third of the lag of smoothing in frame pixels), and a face that comes back a little
        elsewhere a moment after it was lost (``REACQUIRE_S``) has no pupil pulled toward where it was."""
        steady = []
        for eye_result in face.eyes:
            pupil = eye_result.pupil
            key = (face.face.track_id, eye_result.eye.side)
            if pupil.found:
                centre_filter = self._pupil_filters.setdefault(
                    key, OneEuroFilter(self.settings.pupil_smoothing_hz, beta=0.05))
                eye_centre = eye_result.eye.centre
                x, y = centre_filter(np.array(pupil.centre) - eye_centre, time_s) + eye_centre
                pupil = Pupil((float(x), float(y)), pupil.iris_radius_px, pupil.confidence)
            steady.append(EyeResult(eye_result.eye, pupil))
        return FaceResult(face.face, steady[0], steady[1])

    @staticmethod
    def _render_face(frame: np.ndarray, output: np.ndarray, face: FaceResult, gaze: Gaze,
                     state: _FaceEffectState, time_s: float) -> FaceResult:
        """Both eyes of ``face`` redrawn into ``output`` for ``gaze``, or neither; ``frame`` is the input (the same
        array as ``output`` when drawing in place: each eye is read before it is drawn)."""
        eyes = [eye_result.eye for eye_result in face.eyes]
        pupils = [eye_result.pupil for eye_result in face.eyes]
        distance = eye_distance_px((eyes[0], eyes[1]))
        radius = state.iris.radius_px(distance)
        shapes = [EyeShape.of(eye) for eye in eyes]
        centres = [np.array(pupil.centre) for pupil in pupils]
        openness = min(eye.openness for eye in eyes)
        # The landmarks can call a shut eye open (behind a hand, as a blink starts): the image has a say. Eyes
        # the landmarks call closed are shut to the gate anyway, and teach it nothing: not read.
        known = [] if openness < CLOSED_OPENNESS else [
            ratio for ratio in (sclera_over_skin(frame, eye, shape, centre, radius)
                                for eye, shape, centre in zip(eyes, shapes, centres)) if not math.isnan(ratio)]
        sclera = min(known) if known else math.nan
        amount = state.gate.update(openness, min(p.confidence for p in pupils), time_s, sclera)
        drawing = amount > 0.0 and gaze.strength > 0.0
        if drawing:
            # Closed or unsure eyes are neither drawn nor trusted to size the iris.
            fits = [fit_iris(frame, shape, centre, radius) for shape, centre in zip(shapes, centres)]
            centres = [fit.centre for fit in fits]
            radius = state.iris.update(distance, [fit.radius_px for fit in fits if fit.radius_px is not None], time_s)
        # A half-open eye gets a smaller move, and the redraw itself fades in with the openness.
        scaled = Gaze(gaze.offset, gaze.strength * amount, gaze.squint)
        redraws = [EyeRedraw(eye, shape, centre, iris_target(eye, shape, centre, radius, scaled))
                   for eye, shape, centre in zip(eyes, shapes, centres)]
        rendered = drawing and render_face(
            output, redraws, radius, gaze.squint * gaze.strength * amount, min(1.0, 4.0 * amount))
        results = [EyeResult(r.eye, pupil, IrisMove((float(r.source[0]), float(r.source[1])),
                                                    (float(r.target[0]), float(r.target[1])), radius, rendered))
                   for r, pupil in zip(redraws, pupils)]
        return FaceResult(face.face, results[0], results[1], gaze, amount)
