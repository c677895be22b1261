"""MediaPipe Face Mesh with refined iris (the peer glare is measured against), timed per frame.

Runs in its own virtual environment (mediapipe 0.10.14 pins a protobuf that clashes with
TensorFlow's): see mediapipe_bench.sh. Its legacy ``solutions.face_mesh`` ships its face and iris
models inside the wheel, so it runs offline. Decoding is left out of the timing, and so is the
first frame (model loading), as in ``glare bench``.

    python mediapipe_facemesh_timing.py CLIP.mp4 [--max-faces N]
"""

import argparse
import time

import cv2
import mediapipe as mp
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip")
    parser.add_argument("--max-faces", type=int, default=1)
    args = parser.parse_args()
    capture = cv2.VideoCapture(args.clip)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    times, found = [], 0
    # Tracking mode (static_image_mode=False): the detector runs only when the mesh loses the face.
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=args.max_faces,
                                         refine_landmarks=True) as mesh:
        for index, frame in enumerate(frames):
            start = time.perf_counter()
            result = mesh.process(frame)
            elapsed = (time.perf_counter() - start) * 1000.0
            if index > 0:
                times.append(elapsed)
                found += len(result.multi_face_landmarks or [])
    times = np.array(times)
    height, width = frames[0].shape[:2]
    print(f"{args.clip}: {len(times)} frames of {width}x{height} (first left out), faces found {found}")
    print(f"mediapipe face mesh + iris: median {np.median(times):.2f} ms, p95 {np.percentile(times, 95):.2f} ms, "
          f"max {times.max():.2f} ms")


if __name__ == "__main__":
    main()
