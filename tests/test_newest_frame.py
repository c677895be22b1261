import threading

import numpy as np
import pytest

from glare.capture import CameraStopped, CapturedFrame
from glare.newest_frame import NewestFrameReader

WAIT_S = 10.0
"""Upper bound on waiting for the reading thread (the tests never wait for time to pass)."""


class _TickedCamera:
    """A camera that delivers a frame each time the test ticks, then fails with ``error`` when ticked
    after its last frame (if it has one); it counts what it delivered."""

    fps = 30.0
    live = True
    photos = False
    reconnects = 0
    skipped = 0
    stale = 0

    def __init__(self, frame_count=None, error=None):
        self.frame_count = frame_count
        self.error = error
        self.delivered = 0
        self.closed = False
        self._ticks = threading.Semaphore(0)
        self._changed = threading.Condition()

    def tick(self, count=1):
        for _ in range(count):
            self._ticks.release()

    def wait_until_delivered(self, count):
        with self._changed:
            assert self._changed.wait_for(lambda: self.delivered >= count, WAIT_S)

    def frames(self):
        index = 0
        while self.frame_count is None or index < self.frame_count:
            assert self._ticks.acquire(timeout=WAIT_S)
            yield CapturedFrame(np.full((4, 4, 3), index % 256, np.uint8), index / self.fps, index)
            with self._changed:
                self.delivered = index = index + 1
                self._changed.notify_all()
        if self.error is not None:
            assert self._ticks.acquire(timeout=WAIT_S)
            raise self.error

    def close(self):
        self.closed = True


def _take(frames, camera, delivered):
    """The next frame handed over once the camera has delivered ``delivered`` frames in all."""
    camera.wait_until_delivered(delivered)
    return next(frames)


def test_a_camera_faster_than_the_effect_hands_over_only_its_newest_frame():
    bursts = (1, 3, 2, 5)
    camera = _TickedCamera(frame_count=1 + sum(bursts))
    reader = NewestFrameReader(camera)
    frames = reader.frames()
    camera.tick()
    assert _take(frames, camera, 1).index == 0
    delivered = 1
    # The effect takes as long as 1, 3, 2 and 5 camera intervals in turn.
    for burst in bursts:
        camera.tick(burst)
        delivered += burst
        handed = _take(frames, camera, delivered)
        # Never older than one interval: the newest frame the camera had delivered.
        assert handed.index == delivered - 1
    assert reader.stale == sum(burst - 1 for burst in bursts)
    assert list(frames) == []  # the camera's frames ended, and so do the reader's
    reader.close()
    assert camera.closed


def test_frames_before_a_camera_error_are_handed_over_then_the_error_is_raised():
    camera = _TickedCamera(frame_count=2, error=CameraStopped("camera 0 delivered no usable frame"))
    reader = NewestFrameReader(camera)
    frames = reader.frames()
    camera.tick()
    assert _take(frames, camera, 1).index == 0
    camera.tick()
    assert _take(frames, camera, 2).index == 1
    camera.tick()
    with pytest.raises(CameraStopped, match="no usable frame"):
        next(frames)
    reader.close()
    assert camera.closed


def test_closing_stops_the_reading_thread_and_closes_the_camera():
    camera = _TickedCamera()
    reader = NewestFrameReader(camera)
    frames = reader.frames()
    camera.tick()
    assert _take(frames, camera, 1).index == 0
    closer = threading.Thread(target=reader.close)
    closer.start()
    with reader._condition:
        assert reader._condition.wait_for(lambda: reader._stopping, WAIT_S)
    # The read in progress returns with the next frame, which is not handed over: the thread stops there.
    camera.tick()
    closer.join(WAIT_S)
    assert camera.closed and not reader._thread.is_alive()
    assert reader._newest is None


def test_a_reader_closed_before_it_read_closes_its_camera():
    camera = _TickedCamera()
    NewestFrameReader(camera).close()
    assert camera.closed
