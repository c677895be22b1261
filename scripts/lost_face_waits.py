"""How long frames wait for the worker thread's search after the face is lost, on a clip read back to back.

With no face followed, the whole frame is searched again on the worker thread; live, its answer is long
done by the next frame. A clip read faster than real time (a file rendered, `glare bench`) waits for it on
the next frame instead (``FaceTracker._look_again``; since the fourteenth speed pass not while a face lost a
moment ago is looked for where it was, on the frame's path). This runs the whole
effect over the clip ``--passes`` times, each pass with a fresh engine, and prints every such wait over
``--min-ms`` with the searches that were still asked for then (their key, and whether each was running).
Whether a face is lost in a pass depends on when the worker's answers arrive, so the count differs from run
to run: compare checkouts over many passes (``PYTHONPATH=<checkout>``).

    python scripts/lost_face_waits.py --input ../shared/data/video/woman_expressions.mp4 --passes 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from glare.background_scan import BackgroundDetector
from glare.bench import FrameLayout, _frames
from glare.engine import Engine, EngineSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--min-ms", type=float, default=3.0, help="print waits longer than this")
    args = parser.parse_args(argv)
    frames = [(captured.image, captured.time_s) for captured in _frames(args.input, None, FrameLayout())]
    waits: list[tuple[int, int, float, list]] = []
    where = {"pass": 0, "frame": 0}
    real_wait = BackgroundDetector.wait

    def timed_wait(detector: BackgroundDetector) -> None:
        asked = [(key, future.running()) for key, (future, _) in detector._pending.items()]
        start = time.perf_counter()
        real_wait(detector)
        waited = (time.perf_counter() - start) * 1e3
        if waited > args.min_ms:
            waits.append((where["pass"], where["frame"], waited, asked))

    BackgroundDetector.wait = timed_wait
    for where["pass"] in range(args.passes):
        with Engine(EngineSettings()) as engine:
            for where["frame"], (image, time_s) in enumerate(frames):
                engine.process(image.copy(), time_s, in_place=True)
    for pass_index, frame, waited, asked in waits:
        searches = ", ".join(f"{key}{' (running)' if running else ''}" for key, running in asked)
        print(f"pass {pass_index} frame {frame}: waited {waited:.1f} ms for {searches}")
    print(f"{len(waits)} waits over {args.min_ms:g} ms in {args.passes} passes of {len(frames)} frames")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
