"""The effect's cost a frame while nobody is in view (the streamer stepped away), paced as a camera is.

A clip's top-left corner (a fifth of its width, a third of its height: background, no face) is scaled up
to the clip's size, or to ``--size``, and handed to the engine at ``--fps`` in real time, as a webcam
hands frames over: a worker thread's search then has the frame interval to finish in. Prints the median,
p95 and max of ``Engine.process`` over the frames after the first. Another checkout is timed with
``PYTHONPATH=<checkout> python scripts/empty_scene_bench.py ...``.

    python scripts/empty_scene_bench.py --input ../shared/data/video/woman_expressions.mp4
    python scripts/empty_scene_bench.py --input ../shared/data/video/woman_expressions.mp4 --size 1920x1080
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from glare.capture import VideoFileSource
from glare.engine import Engine


def _empty_scenes(video: Path, frames: int, size: tuple[int, int] | None) -> list[np.ndarray]:
    scenes = []
    for captured in VideoFileSource(video).frames():
        if len(scenes) == frames:
            break
        image = captured.image
        corner = image[: image.shape[0] // 3, : image.shape[1] // 5]
        scenes.append(cv2.resize(corner, size or image.shape[1::-1], interpolation=cv2.INTER_CUBIC))
    return scenes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="a clip; its top-left corner is the empty scene")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--size", help="WxH to scale the scene to, e.g. 1920x1080 (default: the clip's)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    scenes = _empty_scenes(args.input, args.frames, size)
    times_ms = []
    with Engine() as engine:
        start = time.perf_counter()
        for index, scene in enumerate(scenes):
            # Paced: a frame is handed over no sooner than a camera at --fps would hand it over.
            while time.perf_counter() < start + index / args.fps:
                time.sleep(0.0005)
            began = time.perf_counter()
            _, result = engine.process(scene, index / args.fps, in_place=True)
            times_ms.append((time.perf_counter() - began) * 1e3)
            if result.faces:
                raise SystemExit(f"frame {index}: a face was found in the empty scene; pick another clip")
        engine.analyser.tracker.close()
    after_first = np.array(times_ms[1:])
    print(f"{len(scenes)} frames with nobody in view at {scenes[0].shape[1]}x{scenes[0].shape[0]}, {args.fps:g} fps: "
          f"median {np.median(after_first):.2f} ms, p95 {np.percentile(after_first, 95):.2f}, "
          f"max {after_first.max():.2f} (the first frame {times_ms[0]:.2f})")


if __name__ == "__main__":
    main()
