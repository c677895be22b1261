#!/usr/bin/env bash
# MediaPipe Face Mesh (refined iris) timed on a clip, in a venv of its own (its protobuf pin clashes
# with TensorFlow's, so it cannot share glare's). Usage: scripts/mediapipe_bench.sh CLIP.mp4 [VENV]
set -euo pipefail
clip="$1"
venv="${2:-.venv-mediapipe}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "mediapipe==0.10.14" opencv-python-headless
fi
"$venv/bin/python" "$(dirname "$0")/mediapipe_facemesh_timing.py" "$clip"
