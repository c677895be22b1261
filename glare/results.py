"""What the engine says about each frame: faces, eyes, pupils, where irises were drawn, timings."""

from __future__ import annotations

from dataclasses import dataclass, field

from glare.eyes import Eye
from glare.faces import Face
from glare.gaze import Gaze
from glare.pupils import Pupil


@dataclass(frozen=True)
class IrisMove:
    """Where an iris was found and where it is drawn, in frame pixels."""

    source: tuple[float, float]
    target: tuple[float, float]
    iris_radius_px: float
    """The radius the renderer used: the face's steady iris size, not the locator's per-frame guess."""
    rendered: bool


@dataclass(frozen=True)
class EyeResult:
    eye: Eye
    pupil: Pupil
    iris: IrisMove | None = None
    """Where the effect drew the iris; None when no effect ran on this eye."""


@dataclass(frozen=True)
class FaceResult:
    face: Face
    right_eye: EyeResult
    left_eye: EyeResult
    gaze: Gaze | None = None
    """The effect's gaze for this face this frame; None when no effect ran."""
    effect_amount: float = 0.0
    """How much of the effect the eyes' openness allowed (0 closed, 1 open)."""

    @property
    def eyes(self) -> tuple[EyeResult, EyeResult]:
        return self.right_eye, self.left_eye


@dataclass
class FrameResult:
    index: int
    time_s: float
    faces: list[FaceResult]
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Milliseconds per stage for this frame, in the frame's order."""

    @property
    def total_ms(self) -> float:
        return sum(self.timings_ms.values())
