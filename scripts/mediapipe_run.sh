#!/usr/bin/env bash
# Runs a script in MediaPipe's own virtual environment (mediapipe 0.10.14 pins a protobuf that clashes
# with TensorFlow's, so it cannot share glare's), making it the first time.
# Usage: scripts/mediapipe_run.sh SCRIPT.py [ARGS...]   (GLARE_MEDIAPIPE_VENV picks the venv's folder)
set -euo pipefail
venv="${GLARE_MEDIAPIPE_VENV:-.venv-mediapipe}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "mediapipe==0.10.14" opencv-python-headless
fi
"$venv/bin/python" "$@"
