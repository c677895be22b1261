"""glare: a real-time webcam effect that redraws the irises into a side-eye glare or an anxious gaze.

The flat API (images are BGR uint8 arrays as OpenCV reads them; points are (x, y) image pixels with
pixel centres at whole numbers; eyes are named as the person's own, the right eye on the image's left):

- ``glare.find_pupils(image_bgr, *, locator="model", model=None) -> list[glare.FacePupils]``
- ``glare.apply_effect(image_bgr, effect="glare", *, direction="left", intensity=0.85, squint=0.35)``
  ``-> image_bgr``, for photos, at full strength
- ``glare.Engine`` for video: ``output, result = engine.process(frame, time_s)`` per frame

The frame's journey, one module per stage:
capture -> faces -> eyes -> pupils -> gaze -> render -> sinks, wired by ``glare.engine``; the
analysis (faces -> pupils) is written once, in ``glare.pipeline``.

Importing ``glare`` loads none of that: each name loads its module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "find_pupils": "glare.api",
    "apply_effect": "glare.api",
    "FacePupils": "glare.api",
    "Engine": "glare.engine",
    "EngineSettings": "glare.engine",
    "GazeSettings": "glare.gaze",
    "Pupil": "glare.pupils",
}
__all__ = ["find_pupils", "apply_effect", "FacePupils", "Engine", "EngineSettings", "GazeSettings", "Pupil"]

if TYPE_CHECKING:
    from glare.api import FacePupils, apply_effect, find_pupils
    from glare.engine import Engine, EngineSettings
    from glare.gaze import GazeSettings
    from glare.pupils import Pupil


def __getattr__(name: str) -> object:
    # PEP 562: the heavy modules (dlib, OpenCV, Numba, LiteRT) load on first use of a name.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'glare' has no attribute {name!r}")
