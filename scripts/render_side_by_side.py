"""The render stage of two checkouts timed on the same faces: one face's redraw (``glare.render.render_face``,
both eyes, the squint, two threads where the eyes are large) as the engine asks for it on a clip.

`glare bench` times the whole effect, whose medians moved by 0.2-0.5 ms from run to run on a busy 2-core
machine: more than a change to the render is worth. Here the engine (this checkout's) runs over the clip
once and every ``--every``-th face it draws is kept (the frame before drawing, the eyes, the moves, the
iris radius, the squint); then each checkout redraws those same faces in a process of its own
(``PYTHONPATH=<checkout>``), the two taking turns for ``--rounds`` rounds so that the machine's slow
spells fall on both. Prints each checkout's median and p10/p90 ms a face, and how far apart their
pixels are.

    python scripts/render_side_by_side.py --baseline /tmp/base --input ../shared/data/video/woman_expressions.mp4 --size 1920x1080
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPEATS = 3
"""Each kept face is redrawn this many times a round (on a fresh copy of its frame)."""


def _record(video: Path, size: tuple[int, int] | None, every: int, out: Path) -> int:
    """Runs this checkout's engine over ``video`` and pickles every ``every``-th face it draws."""
    import glare.engine as engine_module
    from glare.bench import FrameLayout, _frames
    from glare.engine import Engine, EngineSettings

    kept: list[tuple] = []
    drawn = 0
    real_render_face = engine_module.render_face

    def keeping(output, redraws, radius, squint=0.0, strength=1.0):
        nonlocal drawn
        if drawn % every == 0:
            kept.append((output.copy(), redraws, radius, squint, strength))
        drawn += 1
        return real_render_face(output, redraws, radius, squint, strength)

    engine_module.render_face = keeping
    engine = Engine(EngineSettings())
    for captured in _frames(video, None, FrameLayout(size=size)):
        engine.process(captured.image.copy(), captured.time_s, in_place=True)
    with out.open("wb") as file:
        pickle.dump(kept, file)
    return len(kept)


def _replay(faces_file: Path, pixels_out: Path | None, one_thread: bool) -> None:
    """Redraws the recorded faces with the checkout on ``sys.path``; prints the ms of each redraw as JSON."""
    import cv2

    import glare.render
    from glare.engine import AnalysisSettings
    from glare.render import render_face, warm_up

    if one_thread:
        glare.render.TWO_THREADS_MIN_PX = sys.maxsize

    cv2.setNumThreads(AnalysisSettings().opencv_threads)
    warm_up()
    with faces_file.open("rb") as file:
        faces = pickle.load(file)
    times, outputs = [], []
    for frame, redraws, radius, squint, strength in faces:
        for repeat in range(REPEATS):
            output = frame.copy()
            start = time.perf_counter()
            render_face(output, redraws, radius, squint, strength)
            times.append((time.perf_counter() - start) * 1e3)
            if repeat == 0:
                outputs.append(output)
    if pixels_out is not None:
        np.savez(pixels_out, *outputs)
    print(json.dumps(times))


def _run_checkout(checkout: Path, faces_file: Path, pixels_out: Path | None, one_thread: bool) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    command = [sys.executable, __file__, "--replay", str(faces_file)] + (["--one-thread"] if one_thread else [])
    if pixels_out is not None:
        command += ["--pixels", str(pixels_out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="the other checkout (its folder, holding glare/)")
    parser.add_argument("--input", type=Path, help="a clip with a face")
    parser.add_argument("--size", help="the frames upscaled to WIDTHxHEIGHT first (e.g. 1920x1080)")
    parser.add_argument("--every", type=int, default=10, help="keep every n-th face drawn (default 10)")
    parser.add_argument("--rounds", type=int, default=6, help="turns each checkout takes (default 6)")
    parser.add_argument("--one-thread", action="store_true",
                        help="both eyes on the calling thread: the eyes' own cost, without the two threads' hand-offs, "
                             "whose waits vary most from run to run on a busy machine")
    parser.add_argument("--replay", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pixels", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay is not None:
        _replay(args.replay, args.pixels, args.one_thread)
        return
    if args.baseline is None or args.input is None:
        parser.error("--baseline and --input are needed")
    if not (args.baseline / "glare" / "render.py").is_file():
        parser.error(f"{args.baseline} holds no glare/render.py: give the folder of another glare checkout")
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as work:
        faces_file = Path(work) / "faces.pickle"
        count = _record(args.input, size, args.every, faces_file)
        checkouts = {"baseline": args.baseline.resolve(), "this checkout": here}
        times: dict[str, list[float]] = {name: [] for name in checkouts}
        pixels = {name: Path(work) / f"{index}.npz" for index, name in enumerate(checkouts)}
        for turn in range(args.rounds):
            order = list(checkouts) if turn % 2 == 0 else list(reversed(checkouts))
            for name in order:
                times[name] += _run_checkout(checkouts[name], faces_file, pixels[name] if turn < 2 else None,
                                             args.one_thread)
        first, second = (np.load(pixels[name]) for name in checkouts)
        differences = [np.abs(first[key].astype(np.int16) - second[key]).max() for key in first.files]
    print(f"{args.input}{' at ' + args.size if args.size else ''}: {count} faces, {REPEATS} redraws each a round, "
          f"{args.rounds} rounds each{', both eyes on one thread' if args.one_thread else ''}")
    for name, values in times.items():
        print(f"{name:14s} median {np.median(values):.3f} ms  p10 {np.percentile(values, 10):.3f}  "
              f"p90 {np.percentile(values, 90):.3f}")
    print(f"pixels: {sum(d == 0 for d in differences)} of {len(differences)} faces identical, "
          f"largest difference {max(differences)} levels")


if __name__ == "__main__":
    main()
