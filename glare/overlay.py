"""Drawings on the window's copy of a frame: the debug overlay (landmarks, pupils, iris circles, timings) and text lines."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from glare.results import FrameResult

PUPIL_COLOUR = (0, 0, 255)
LANDMARK_COLOUR = (0, 255, 0)
IRIS_COLOUR = (255, 200, 0)
TARGET_COLOUR = (255, 0, 255)


def draw_text_lines(frame: np.ndarray, lines: Sequence[str], corner: str = "top-left") -> None:
    """Readable text on any background: white on a darkened band, from a corner of the frame."""
    # About 13 px capitals on a 640 px frame, growing with the frame, so the text reads at any size.
    scale = max(0.55, frame.shape[1] / 1100)
    line_height = int(24 * scale / 0.6)
    for index, line in enumerate(lines):
        if corner == "top-left":
            origin = (8, 8 + line_height * (index + 1))
        else:
            origin = (8, frame.shape[0] - 10 - line_height * (len(lines) - 1 - index))
        # A darkened band, not an outline: thicker strokes change the glyphs' advance in some OpenCV
        # builds, which left a second, offset copy of every word.
        (width, height), baseline = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        x0, y0 = max(origin[0] - 4, 0), max(origin[1] - height - 4, 0)
        x1, y1 = min(origin[0] + width + 4, frame.shape[1]), min(origin[1] + baseline + 3, frame.shape[0])
        frame[y0:y1, x0:x1] = frame[y0:y1, x0:x1] // 3
        cv2.putText(frame, line, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def draw_debug(frame: np.ndarray, result: FrameResult) -> None:
    """Landmarks, face boxes, found pupils (grey where not found) with the iris circle, where the effect
    drew each iris (magenta), and per-stage timings."""
    for face_result in result.faces:
        for x, y in face_result.face.landmarks:
            cv2.circle(frame, (int(round(x)), int(round(y))), 1, LANDMARK_COLOUR, -1, cv2.LINE_AA)
        left, top, right, bottom = (int(round(v)) for v in face_result.face.box)
        cv2.rectangle(frame, (left, top), (right, bottom), LANDMARK_COLOUR, 1)
        for eye_result in face_result.eyes:
            pupil = eye_result.pupil
            centre = (int(round(pupil.centre[0])), int(round(pupil.centre[1])))
            colour = PUPIL_COLOUR if pupil.found else (128, 128, 128)
            cv2.circle(frame, centre, max(int(round(pupil.iris_radius_px)), 1), IRIS_COLOUR, 1, cv2.LINE_AA)
            cv2.drawMarker(frame, centre, colour, cv2.MARKER_CROSS, 6, 1, cv2.LINE_AA)
            if eye_result.iris is not None and eye_result.iris.rendered:
                target = (int(round(eye_result.iris.target[0])), int(round(eye_result.iris.target[1])))
                cv2.circle(frame, target, max(int(round(eye_result.iris.iris_radius_px)), 1), TARGET_COLOUR, 1,
                           cv2.LINE_AA)
    timings = "  ".join(f"{stage} {ms:.1f}" for stage, ms in result.timings_ms.items())
    draw_text_lines(frame, [f"ms: {timings}  total {result.total_ms:.1f}", f"faces: {len(result.faces)}"], "bottom-left")
