#!/usr/bin/env bash
# MediaPipe Face Mesh (refined iris) timed on a clip, in a venv of its own (see mediapipe_run.sh).
# Usage: scripts/mediapipe_bench.sh CLIP.mp4 [VENV]
set -euo pipefail
export GLARE_MEDIAPIPE_VENV="${2:-${GLARE_MEDIAPIPE_VENV:-.venv-mediapipe}}"
"$(dirname "$0")/mediapipe_run.sh" "$(dirname "$0")/mediapipe_facemesh_timing.py" "$1"
