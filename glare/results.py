"""What the engine says about each frame: faces, eyes, pupils, where irises were drawn, timings."""

from __future__ import annotations

from dataclasses import dataclass, field

from glare.eyes import Eye
from glare.faces import Face
from glare.pupils import Pupil
from glare.render import IrisMove


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
