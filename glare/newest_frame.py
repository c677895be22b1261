"""The newest frame of a live source, read in a thread of its own.

A webcam queues the frames the program has not read yet (in the driver and in OpenCV), so a slow
frame would make every later one late: the effect would run behind the person. Reading in a
thread and keeping only the newest frame bounds the added latency to one frame; frames that a
newer one replaced before they were taken are dropped and counted, never queued.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # capture opens its cameras through this module
    from glare.capture import CapturedFrame, FrameSource

JOIN_TIMEOUT_S = 2.0
"""How long ``close`` waits for a read in progress to return before it leaves the thread behind."""


class NewestFrameReader:
    """Wraps a live ``FrameSource``: its frames are read as they come, and ``frames`` hands over the
    newest one each time it is asked. An error in the source (a camera that stopped) is raised by
    ``frames`` once the frames before it have been handed over."""

    live = True
    photos = False

    def __init__(self, source: FrameSource):
        self.source = source
        self.fps = source.fps
        self.stale = 0
        """Frames replaced by a newer one before they were handed over."""
        self._condition = threading.Condition()
        self._newest: CapturedFrame | None = None
        self._error: BaseException | None = None
        self._ended = False
        self._stopping = False
        self._thread = threading.Thread(target=self._read, name="glare-capture", daemon=True)

    @property
    def reconnects(self) -> int:
        return self.source.reconnects

    @property
    def skipped(self) -> int:
        return self.source.skipped

    def _read(self) -> None:
        try:
            for frame in self.source.frames():
                with self._condition:
                    if self._stopping:
                        return
                    self.stale += self._newest is not None
                    self._newest = frame
                    self._condition.notify()
        except BaseException as error:  # handed to the consumer's thread, where it is raised
            with self._condition:
                self._error = error
        finally:
            # Closed here, in the thread that reads it: closing a capture under a read in progress is unsafe.
            self.source.close()
            with self._condition:
                self._ended = True
                self._condition.notify()

    def frames(self) -> Iterator[CapturedFrame]:
        """Starts reading (at the call, not at the first ``next``) and hands over the newest frame each time."""
        if self._thread.ident is None:
            self._thread.start()
        return self._handed_over()

    def _handed_over(self) -> Iterator[CapturedFrame]:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._newest is not None or self._ended)
                frame, self._newest = self._newest, None
                if frame is None:
                    if self._error is not None:
                        raise self._error
                    return
            yield frame

    def close(self) -> None:
        """Stops reading; the reading thread closes the source once its read in progress returns. A read
        that does not return in ``JOIN_TIMEOUT_S`` (a hung driver) is left to that daemon thread."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.ident is None:
            self.source.close()
        else:
            self._thread.join(JOIN_TIMEOUT_S)
