"""The whole effect of two checkouts timed over the same clip, in turn a few frames at a time.

`glare bench` runs of the same code on this shared 2-core machine read medians 0.3-1 ms apart within
minutes, more than most changes are worth, and separate runs of two checkouts compare the machine's slow
spells more than the code. Here each checkout runs in a process of its own (``PYTHONPATH=<checkout>``),
one engine each (glare effect, bundled models, drawn in place as the live loop does), and the two take
turns every ``--chunk`` frames: each processes the same frames of the clip, in order, the order of the
two swapped each turn, for ``--passes`` passes of the clip (a fresh engine each). So both meet the same
spells. Decoding is left out (the frames are decoded once, before timing), and so is each pass's first
frame. Prints each checkout's median, p95 and max ms a frame, each stage's median, and the ratio.

    python scripts/effect_side_by_side.py --baseline /tmp/base --input ../shared/data/video/woman_expressions.mp4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

THIS_CHECKOUT = Path(__file__).resolve().parent.parent


def _serve(video: Path, effect: str, size: tuple[int, int] | None) -> None:
    """One side: decodes ``video`` and answers commands on stdin (``pass``: a fresh engine; ``frames A B``:
    frames A..B-1 processed, their stage timings printed as one JSON line)."""
    from glare.bench import FrameLayout, _frames
    from glare.engine import Engine, EngineSettings
    from glare.gaze import GazeSettings

    frames = [(captured.image, captured.time_s) for captured in _frames(video, None, FrameLayout(size=size))]
    engine = None
    print(json.dumps({"frames": len(frames)}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "pass":
            if engine is not None:
                engine.__exit__(None, None, None)
            engine = Engine(EngineSettings(gaze=GazeSettings(effect=effect)))
            print("{}", flush=True)
            continue
        timings = []
        for image, time_s in frames[int(command[1]):int(command[2])]:
            _, result = engine.process(image.copy(), time_s, in_place=True)
            timings.append(result.timings_ms)
        print(json.dumps(timings), flush=True)


def _side(checkout: Path, arguments: list[str]) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    return subprocess.Popen([sys.executable, __file__, "--serve", *arguments], cwd=checkout, env=environment,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _ask(side: subprocess.Popen, command: str):
    side.stdin.write(command + "\n")
    side.stdin.flush()
    return json.loads(side.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="the other checkout (a git worktree of the commit to compare)")
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--effect", default="glare")
    parser.add_argument("--size", help="upscale the frames first (untimed), WxH")
    parser.add_argument("--passes", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=30, help="frames a turn")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    if args.serve:
        _serve(args.input.resolve(), args.effect, size)
        return
    if args.baseline is None:
        parser.error("--baseline is required")
    forwarded = ["--input", str(args.input.resolve()), "--effect", args.effect] + (["--size", args.size] if size else [])
    sides = {"this checkout": _side(THIS_CHECKOUT, forwarded), "baseline": _side(args.baseline.resolve(), forwarded)}
    frame_count = min(json.loads(side.stdout.readline())["frames"] for side in sides.values())
    whole = {name: [] for name in sides}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in sides}
    turn = 0
    for _ in range(args.passes):
        for side in sides.values():
            _ask(side, "pass")
        for start in range(0, frame_count, args.chunk):
            names = list(sides) if turn % 2 == 0 else list(reversed(sides))
            turn += 1
            for name in names:
                for offset, timings in enumerate(_ask(sides[name], f"frames {start} {min(start + args.chunk, frame_count)}")):
                    if start + offset == 0:
                        continue
                    whole[name].append(sum(timings.values()))
                    for stage, ms in timings.items():
                        stages[name].setdefault(stage, []).append(ms)
    for side in sides.values():
        side.stdin.close()
        side.wait()
    for name in sides:
        ms = np.array(whole[name])
        print(f"{name:14s} median {np.median(ms):.3f}  p95 {np.percentile(ms, 95):.3f}  max {ms.max():.2f} ms "
              f"({len(ms)} frames);  " + "  ".join(f"{s} {np.median(v):.3f}" for s, v in stages[name].items()))
    print(f"this checkout / baseline, medians: {np.median(whole['this checkout']) / np.median(whole['baseline']):.3f}")


if __name__ == "__main__":
    main()
