"""How often the effect switches on and off on a clip with its contrast lowered, as a dim or hazy webcam gives it.

Each frame of ``--input`` is blended toward a grey level (``--toward 128 --contrast 0.2`` keeps a fifth of
every difference from mid grey: a washed-out picture with lifted blacks; ``--toward 0`` darkens it, as a
dim webcam's lower exposure does), run through the engine with the glare effect, and whether each face's eyes were drawn is read
off the result. Printed: the frames the engine tried to draw (its openness gate open), how many of those it
drew, and how many times the drawing switched between drawn and not drawn on consecutive tries: each switch
is an iris jumping between its moved and its real place. Run it on another checkout
(``PYTHONPATH=<checkout>``) to compare.

    python scripts/dim_clip_switches.py --input ../shared/data/video/woman_expressions.mp4 --contrast 0.5 0.2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glare.capture import VideoFileSource
from glare.engine import Engine, EngineSettings
from glare.gaze import GazeSettings


def count_switches(path: Path, contrast: float, toward: float) -> tuple[int, int, int]:
    """(tries, frames drawn, switches) over the clip, each frame blended toward grey level ``toward``, keeping
    ``contrast`` of every difference from it."""
    tried = drawn = switches = 0
    last: dict[int, bool] = {}
    source = VideoFileSource(path)
    try:
        with Engine(EngineSettings(gaze=GazeSettings(effect="glare"))) as engine:
            for captured in source.frames():
                dim = np.clip(captured.image * contrast + toward * (1.0 - contrast), 0, 255).astype(np.uint8)
                _, result = engine.process(dim, captured.time_s)
                for face in result.faces:
                    if face.effect_amount <= 0.0 or face.gaze.strength <= 0.0:
                        continue  # the gate shut (a blink) or the effect not started: nothing was tried
                    rendered = face.right_eye.iris.rendered
                    tried += 1
                    drawn += rendered
                    switches += face.face.track_id in last and last[face.face.track_id] != rendered
                    last[face.face.track_id] = rendered
    finally:
        source.close()
    return tried, drawn, switches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--contrast", type=float, nargs="+", default=[0.2],
                        help="shares of each pixel's difference from grey kept, one run each")
    parser.add_argument("--toward", type=float, default=128.0,
                        help="the grey level the frames are blended toward: 128 washes them out, 0 darkens them")
    args = parser.parse_args()
    for contrast in args.contrast:
        tried, drawn, switches = count_switches(args.input, contrast, args.toward)
        print(f"{args.input.name} at contrast {contrast} toward {args.toward:g}: tried {tried}, drawn {drawn}, "
              f"switches {switches}")


if __name__ == "__main__":
    main()
