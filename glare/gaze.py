"""Gaze: where each iris should be at time t, for each effect.

A gaze is an offset along the eye's corner-to-corner axis, in [-1, 1]: -1 puts the iris as far
toward the image's left corner as the eye allows, +1 toward the image's right corner (as seen in
the output image), plus a small vertical offset in the same units. Both eyes of a face share one
gaze, so they move together. Motion toward each new target is eased, never a jump, and a face
that appears (or reappears) fades the effect in from its real gaze.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Effect = Literal["glare", "anxious", "none"]
EFFECTS: tuple[Effect, ...] = ("glare", "anxious", "none")
Direction = Literal["left", "right", "alternate"]
DIRECTIONS: tuple[Direction, ...] = ("left", "right", "alternate")


@dataclass(frozen=True)
class GazeSettings:
    effect: Effect = "glare"
    direction: Direction = "left"
    """Which way the glare looks, as seen in the output image; alternate swaps sides every ``alternate_period_s``."""
    intensity: float = 0.85
    """How far the irises go, as a share of the room the eye has, in [0, 1]."""
    squint: float = 0.35
    """How far the upper lids come down during a glare, in [0, 1]; 0 turns the squint off."""
    alternate_period_s: float = 3.0
    seed: int = 0
    """Makes the anxious darting reproducible."""
    fade_in_s: float = 0.35
    """How long a newly found face takes to reach the full effect."""

    def __post_init__(self) -> None:
        if self.effect not in EFFECTS:
            raise ValueError(f"unknown effect {self.effect!r}: choose one of {', '.join(EFFECTS)}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}: choose one of {', '.join(DIRECTIONS)}")
        for name in ("intensity", "squint"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class Gaze:
    offset: tuple[float, float]
    """(along the eye axis, across it), each in [-1, 1] of the eye's room."""
    strength: float
    """0 leaves the iris where it is, 1 applies the full effect (fades in with a new face)."""
    squint: float


@dataclass
class _Fixation:
    start_s: float
    target: tuple[float, float]


class AnxiousSchedule:
    """Nervous darting: fast saccades between side targets, short irregular fixations, from a seed.

    Fixations last 0.12-0.55 s (a log-normal around 0.25 s, as in anxious scanning), alternate
    mostly between the two sides with now and then a glance back to the centre.
    """

    def __init__(self, seed: int, intensity: float):
        self._rng = np.random.default_rng(seed)
        self._intensity = intensity
        self._fixations: list[_Fixation] = [_Fixation(0.0, (0.0, 0.0))]
        self._side = 1.0 if self._rng.random() < 0.5 else -1.0

    def _extend_to(self, time_s: float) -> None:
        while self._fixations[-1].start_s <= time_s:
            last = self._fixations[-1]
            duration = float(np.clip(self._rng.lognormal(math.log(0.25), 0.45), 0.12, 0.55))
            if self._rng.random() < 0.2:
                along = 0.0
            else:
                self._side = -self._side if self._rng.random() < 0.8 else self._side
                along = self._side * self._intensity * float(self._rng.uniform(0.6, 1.0))
            across = float(self._rng.uniform(-0.25, 0.2)) * self._intensity
            self._fixations.append(_Fixation(last.start_s + duration, (along, across)))

    def first_glance(self) -> tuple[float, float]:
        """The first fixation off the centre: the anxious gaze a photo shows."""
        index = 0
        while True:
            while index >= len(self._fixations) - 1:
                self._extend_to(self._fixations[-1].start_s)
            index += 1
            if self._fixations[index].target[0] != 0.0:
                return self._fixations[index].target

    def target(self, time_s: float) -> tuple[float, float]:
        self._extend_to(time_s)
        current = self._fixations[0]
        for fixation in self._fixations:
            if fixation.start_s > time_s:
                break
            current = fixation
        # Keep the list short in long sessions: fixations long past are never asked for again.
        while len(self._fixations) > 2 and self._fixations[1].start_s < time_s - 5.0:
            self._fixations.pop(0)
        return current.target


def glare_target(settings: GazeSettings, time_s: float) -> tuple[float, float]:
    side = {"left": -1.0, "right": 1.0}.get(settings.direction)
    if side is None:
        side = -1.0 if int(time_s // settings.alternate_period_s) % 2 == 0 else 1.0
    return side * settings.intensity, 0.0


@dataclass
class _FaceGaze:
    first_seen_s: float
    last_time_s: float
    offset: np.ndarray = field(default_factory=lambda: np.zeros(2))
    schedule: AnxiousSchedule | None = None


class GazeDirector:
    """Keeps each tracked face's eased gaze from frame to frame."""

    # Time constants of the easing: a glare slides over, a nervous saccade snaps.
    EASE_S = {"glare": 0.09, "anxious": 0.022}

    def __init__(self, settings: GazeSettings):
        self.settings = settings
        self._faces: dict[int, _FaceGaze] = {}

    def gaze(self, track_id: int, time_s: float) -> Gaze:
        settings = self.settings
        state = self._faces.get(track_id)
        if state is None:
            schedule = AnxiousSchedule(settings.seed + track_id, settings.intensity)
            state = self._faces[track_id] = _FaceGaze(time_s, time_s, schedule=schedule)
        moving = settings.effect in ("glare", "anxious")
        if settings.effect == "glare":
            target = glare_target(settings, time_s)
        elif settings.effect == "anxious":
            target = state.schedule.target(time_s - state.first_seen_s)
        else:
            # No effect: the irises slide back to where the person looks, as a glare ends; switching
            # an effect on again starts from there, so every change eases.
            target = (0.0, 0.0)
        dt = max(time_s - state.last_time_s, 0.0)
        # With no effect the irises slide back as a glare does.
        ease = 1.0 - math.exp(-dt / self.EASE_S.get(settings.effect, self.EASE_S["glare"])) if dt > 0 else 0.0
        if time_s == state.first_seen_s:
            ease = 1.0
        state.offset += ease * (np.asarray(target) - state.offset)
        state.last_time_s = time_s
        if not moving and float(np.abs(state.offset).max()) < 0.01:
            state.offset[:] = 0.0
            return Gaze((0.0, 0.0), 0.0, 0.0)
        strength = min(1.0, (time_s - state.first_seen_s) / settings.fade_in_s) if settings.fade_in_s > 0 else 1.0
        strength = strength * strength * (3 - 2 * strength)
        squint = settings.squint * abs(state.offset[0]) if settings.effect != "anxious" else 0.0
        return Gaze((float(state.offset[0]), float(state.offset[1])), strength, squint)

    def settled_gaze(self, track_id: int) -> Gaze:
        """The gaze the effect settles on, at full strength, for a photo: a glare's side (the first
        side when alternating), or the first glance of face ``track_id``'s anxious darting."""
        settings = self.settings
        if settings.effect == "glare":
            along, across = glare_target(settings, 0.0)
            return Gaze((along, across), 1.0, settings.squint * abs(along))
        if settings.effect == "anxious":
            return Gaze(AnxiousSchedule(settings.seed + track_id, settings.intensity).first_glance(), 1.0, 0.0)
        return Gaze((0.0, 0.0), 0.0, 0.0)

    def forget_all_but(self, track_ids: set[int]) -> None:
        for track_id in list(self._faces):
            if track_id not in track_ids:
                del self._faces[track_id]
