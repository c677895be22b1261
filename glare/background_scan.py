"""HOG searches on a worker thread, off the frame's path.

dlib's HOG detector lets go of Python's lock while it runs, so a search (about 8 ms for a whole
480-wide frame, 1-2 ms for a face's region) can run on another core while the frame's own work
goes on. The tracker starts a search with a copy of a frame (or of a face's region) and takes the
answer a frame or two later, or many on a busy machine: each search carries what the tracker knew
when it asked (where its faces were), so an answer is read against the frame it came from, not the
frame it arrives on.
"""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dlib
import numpy as np

from glare.face_regions import Box, box_in_frame, rect_box, scaled_gray


@dataclass(frozen=True)
class SearchAnswer:
    boxes: list[Box]
    """The faces found, in frame pixels of the frame the search was given."""
    asked_with: Any
    """What the caller passed to ``start`` with the search: its view of that frame."""


class BackgroundDetector:
    """Searches run one after another on one worker thread, with a detector of its own (dlib's detectors
    are not safe to share between threads). Each search has a key; a key has one search at a time."""

    def __init__(self, upsample: int = 0):
        self.upsample = upsample
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glare-face-search")
        # Made here, not on first use in the worker: making one holds Python's lock for about 0.2 s,
        # which stalled the frame that happened to be running then.
        self._detector = dlib.get_frontal_face_detector()
        self._pending: dict[Hashable, tuple[Future[list[Box]], Any]] = {}

    def start(self, key: Hashable, image: np.ndarray, scale: float, origin: tuple[float, float] = (0.0, 0.0),
              asked_with: Any = None) -> bool:
        """Searches ``image`` (BGR or gray uint8: a copy of the frame, or of its region at ``origin``, that no one
        else writes to) shrunk by ``scale``, unless a search under ``key`` is under way; whether it started.
        ``asked_with`` comes back with the answer. The worker shrinks the image and converts it to gray:
        0.6 ms for a whole 640x360 frame that the frame's own path no longer spends (OpenCV lets go of
        Python's lock too)."""
        if key in self._pending:
            return False
        self._pending[key] = (self._executor.submit(self._search, image, scale, origin), asked_with)
        return True

    def under_way(self, key: Hashable) -> bool:
        """Whether a search under ``key`` has been started and its answer not yet taken (or forgotten)."""
        return key in self._pending

    def _search(self, image: np.ndarray, scale: float, origin: tuple[float, float]) -> list[Box]:
        gray = scaled_gray(image, scale)
        return [box_in_frame(rect_box(r), scale, origin) for r in self._detector(gray, self.upsample)]

    def take(self, key: Hashable) -> SearchAnswer | None:
        """The answer of the finished search under ``key``, once; None while it runs or where none was
        started. An error in the search is raised here."""
        pending = self._pending.get(key)
        if pending is None or not pending[0].done():
            return None
        del self._pending[key]
        return SearchAnswer(pending[0].result(), pending[1])

    def wait(self) -> None:
        """Blocks until every search under way has finished; ``take`` then has their answers."""
        for pending, _ in list(self._pending.values()):
            pending.exception()

    def forget(self, keep: Hashable | None = None) -> None:
        """Drops the searches under way (after a reset or a cut, their answers belong to old frames), all but
        ``keep``'s: those not yet begun are called off, the one running finishes unheard, and their keys are
        free at once. (Left queued, they ran first and held up the next search, whose answer a frame may be
        waiting for.)"""
        for key, (future, _) in list(self._pending.items()):
            if key != keep:
                future.cancel()
                del self._pending[key]

    def file_under(self, key: Hashable, new_key: Hashable) -> bool:
        """Files the search under way under ``key`` (if any, and ``new_key`` has none) under ``new_key``, its
        answer to be taken under that; whether it did."""
        if key not in self._pending or new_key in self._pending:
            return False
        self._pending[new_key] = self._pending.pop(key)
        return True

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
