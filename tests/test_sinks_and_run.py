"""Outputs and the live loop: virtual camera (through a registered test backend), recordings, config, demo."""

import dataclasses
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import pyvirtualcam

from glare.capture import CameraSettings, CameraSource, CameraStopped, CaptureError, open_source
from glare.cli import main
from glare.demo import run_demo
from glare.runner import RunSettings, Session, load_config, run
from glare.sinks import SinkError, VideoRecorder, VirtualCameraSink, preview_size


class RecordingBackend:
    """A pyvirtualcam backend that keeps what it is sent."""

    frames: list = []
    opened: list = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        RecordingBackend.opened.append((width, height, fps, fourcc))

    def send(self, frame):
        RecordingBackend.frames.append(frame.copy())

    def close(self):
        pass

    def device(self):
        return "test-camera"

    def native_fourcc(self):
        return None


class MissingDeviceBackend(RecordingBackend):
    def __init__(self, **kw):
        raise RuntimeError("device not found")


pyvirtualcam.register_backend("glare-test", RecordingBackend)
pyvirtualcam.register_backend("glare-missing", MissingDeviceBackend)


def _probe(path):
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), capture.get(cv2.CAP_PROP_FPS), capture.get(cv2.CAP_PROP_FOURCC)
    finally:
        capture.release()


def test_frames_reach_the_virtual_camera_at_the_right_size_and_format(woman_video):
    RecordingBackend.frames.clear()
    RecordingBackend.opened.clear()
    settings = RunSettings(input=str(woman_video), window=False, virtual_camera=True)
    session = Session(settings, log=lambda _: None, virtual_camera_backend="glare-test")
    source = open_source(input_path=woman_video)
    for _, captured in zip(range(5), source.frames()):
        session.step(captured.image, captured.time_s)
    last_output = session.last_output
    source.close()
    session.close()
    assert len(RecordingBackend.frames) == 5
    (width, height, _, fourcc), = RecordingBackend.opened
    assert (width, height) == (640, 360)
    assert int(fourcc).to_bytes(4, "little").decode() == pyvirtualcam.PixelFormat.BGR.value
    # The camera gets the clean effect frame, in BGR, flattened as pyvirtualcam sends it.
    assert np.array_equal(RecordingBackend.frames[-1].reshape(360, 640, 3), last_output)


def test_a_missing_virtual_camera_names_the_fix():
    with pytest.raises(SinkError, match="To fix"):
        VirtualCameraSink(320, 240, 30, backend="glare-missing")


def test_a_recording_has_every_frame_at_the_source_rate(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoRecorder(path, 161, 121, 24.0) as recorder:
        for index in range(37):
            recorder.send(np.full((121, 161, 3), index * 6, np.uint8), index / 24.0)
    count, fps, fourcc = _probe(path)
    assert count == 37 and fps == pytest.approx(24.0)
    assert int(fourcc).to_bytes(4, "little") in (b"avc1", b"h264", b"H264")


CODE_BITS = 7


def _coded_frame(number: int) -> np.ndarray:
    """A frame that carries ``number`` as black and white stripes, which H.264 keeps exactly."""
    frame = np.zeros((48, 16 * CODE_BITS, 3), np.uint8)
    for bit in range(CODE_BITS):
        if number >> bit & 1:
            frame[:, 16 * bit:16 * (bit + 1)] = 255
    return frame


def _numbers(path: Path) -> list[int]:
    """The number each frame of a recording of ``_coded_frame``s carries."""
    capture = cv2.VideoCapture(str(path))
    numbers = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        stripes = frame[:, :, 1].reshape(frame.shape[0], CODE_BITS, 16)[:, :, 4:12].mean(axis=(0, 2))
        numbers.append(sum(1 << bit for bit in range(CODE_BITS) if stripes[bit] > 128))
    capture.release()
    return numbers


def test_a_recording_keeps_the_time_of_a_camera_slower_or_faster_than_its_nominal_rate(tmp_path):
    """A '30 fps' camera that delivers 15 fps has each frame held twice; one that delivers 60 has every
    second frame dropped: either way a clip plays for as long as it was filmed."""
    slow, fast = tmp_path / "slow.mp4", tmp_path / "fast.mp4"
    width = 16 * CODE_BITS
    with VideoRecorder(slow, width, 48, 30.0) as recorder:
        for index in range(30):
            recorder.send(_coded_frame(index), 5.0 + index / 15.0)
    with VideoRecorder(fast, width, 48, 30.0) as recorder:
        for index in range(60):
            recorder.send(_coded_frame(index), index / 60.0)
    assert _numbers(slow) == [index // 2 for index in range(59)]
    # Each slot of the file keeps the first frame that reaches it (half a slot early at most).
    assert _numbers(fast) == [0] + [2 * slot - 1 for slot in range(1, 31)]
    assert recorder.frames_dropped == 60 - 31


def test_a_long_gap_in_a_recording_is_cut_not_frozen(tmp_path):
    path = tmp_path / "paused.mp4"
    with VideoRecorder(path, 16 * CODE_BITS, 48, 10.0) as recorder:
        for index, time_s in enumerate([0.0, 0.1, 0.2, 0.5, 30.0, 30.1]):
            recorder.send(_coded_frame(index), time_s)
    # 0.2 -> 0.5 is held (two copies of the 0.2 frame); 0.5 -> 30 s (a pause) is cut.
    assert _numbers(path) == [0, 1, 2, 2, 2, 3, 4, 5]


def test_glare_run_records_every_frame_of_the_woman_video(tmp_path, woman_video):
    out = tmp_path / "out.mp4"
    summary = run(RunSettings(input=str(woman_video), effect="glare", record=str(out), window=False), log=lambda _: None)
    assert summary.frames == 472 and summary.frames_with_faces > 400
    count, fps, _ = _probe(out)
    assert count == 472 and fps == pytest.approx(_probe(woman_video)[1], abs=0.01)


def test_run_without_any_output_is_refused():
    with pytest.raises(SinkError, match="nothing to show"):
        run(RunSettings(input="whatever.mp4", window=False))


def test_config_files_take_the_flags_keys(tmp_path):
    good = tmp_path / "glare.toml"
    good.write_text('effect = "anxious"\nvirtual-camera = true\nintensity = 0.5\n')
    assert load_config(good) == {"effect": "anxious", "virtual_camera": True, "intensity": 0.5}
    bad = tmp_path / "bad.toml"
    bad.write_text("efect = 'glare'\n")
    with pytest.raises(ValueError, match="unknown keys efect"):
        load_config(bad)
    with pytest.raises(ValueError, match="not valid TOML"):
        (tmp_path / "broken.toml").write_text("effect = \n")
        load_config(tmp_path / "broken.toml")


class _FlakyCapture:
    """A camera that delivers two frames, then fails, like an unplugged USB camera."""

    def __init__(self, opened=True):
        self.opened = opened
        self.reads = 0
        self.released = False

    def isOpened(self):
        return self.opened

    def set(self, *_):
        return True

    def get(self, _):
        return 30.0

    def read(self):
        self.reads += 1
        if self.reads > 2:
            return False, None
        return True, np.zeros((48, 64, 3), np.uint8)

    def release(self):
        self.released = True


class _FakeClock:
    """Time that passes only when the camera source waits (and ``tick`` each time it is read)."""

    def __init__(self, tick=0.0):
        self.now = 0.0
        self.tick = tick
        self.waits = []

    def __call__(self):
        self.now += self.tick
        return self.now

    def wait(self, seconds):
        self.waits.append(seconds)
        self.now += seconds


def _camera(captures, clock, **settings):
    return CameraSource(CameraSettings(reconnect_delays_s=(0.1, 0.2, 0.4, 0.8, 1.6), **settings),
                        opener=lambda _: next(captures), wait=clock.wait, clock=clock, log=lambda _: None)


def test_a_dropped_camera_is_reopened_with_backoff_until_the_stall_timeout():
    opened = [_FlakyCapture(), _FlakyCapture(opened=False), _FlakyCapture()]
    captures = iter(opened + [_FlakyCapture(opened=False) for _ in range(100)])
    clock = _FakeClock()
    camera = _camera(captures, clock, stall_timeout_s=5.0)
    frames = []
    with pytest.raises(CameraStopped, match="no usable frame for 5 s .*reopened 1 time"):
        for frame in camera.frames():
            frames.append(frame)
    assert len(frames) == 4  # two before the drop, two after the reopen
    assert camera.reconnects == 1
    # The backoff starts over after the frames that followed the reopen, and its last wait repeats.
    assert clock.waits == pytest.approx([0.1, 0.2, 0.1, 0.2, 0.4, 0.8, 1.6, 1.6, 0.3])
    assert all(capture.released for capture in opened)


class _OpensButNeverDelivers(_FlakyCapture):
    def read(self):
        return False, None


def test_a_camera_that_reopens_but_never_delivers_ends_the_run():
    captures = iter([_FlakyCapture()] + [_OpensButNeverDelivers() for _ in range(100)])
    clock = _FakeClock()
    camera = _camera(captures, clock, stall_timeout_s=30.0)
    with pytest.raises(CameraStopped):
        list(camera.frames())
    # Each reopen succeeds, but only a frame restarts the backoff: the waits grow, they do not loop at 0.1 s.
    assert clock.waits[:6] == [0.1, 0.2, 0.4, 0.8, 1.6, 1.6]
    assert len(clock.waits) < 25 and sum(clock.waits) == pytest.approx(30.0)


class _OddFrames(_FlakyCapture):
    def __init__(self, frames):
        super().__init__()
        self.frames = list(frames)

    def read(self):
        return (True, self.frames.pop(0)) if self.frames else (False, None)


def test_frames_that_are_not_images_are_skipped_and_counted():
    odd = _OddFrames([np.zeros((48, 64, 3), np.uint16), np.zeros((48, 64, 3), np.uint8), np.zeros((0, 64, 3), np.uint8),
                      np.zeros((48, 64), np.uint8), np.zeros((36, 40, 4), np.uint8), np.zeros((48, 64, 1), np.uint8)])
    clock = _FakeClock()
    camera = _camera(iter([odd] + [_FlakyCapture(opened=False) for _ in range(100)]), clock, stall_timeout_s=1.0)
    frames = []
    with pytest.raises(CameraStopped):
        for frame in camera.frames():
            frames.append(frame)
    assert [f.image.shape for f in frames] == [(48, 64, 3), (48, 64, 3), (36, 40, 3), (48, 64, 3)]
    assert all(f.image.dtype == np.uint8 for f in frames)
    assert camera.skipped == 2


def test_a_stopped_camera_ends_glare_run_with_status_1_and_a_message(monkeypatch, capsys, tmp_path):
    import glare.capture

    class Stalling(CameraSource):
        def __init__(self, settings):
            # A frame interval a read: frames taken at one instant would share a slot of the recording.
            clock = _FakeClock(tick=1 / 30)
            captures = iter([_FlakyCapture()] + [_OpensButNeverDelivers() for _ in range(50)])
            super().__init__(dataclasses.replace(settings, stall_timeout_s=2.0), opener=lambda _: next(captures),
                             wait=clock.wait, clock=clock, log=lambda _: None)

    monkeypatch.setattr(glare.capture, "CameraSource", Stalling)
    clip = tmp_path / "clip.mp4"
    assert main(["run", "--camera", "0", "--no-window", "--record", str(clip)]) == 1
    assert "delivered no usable frame" in capsys.readouterr().err
    # The fake delivers its two frames at once, faster than the effect: the older may be dropped for the newer.
    assert _probe(clip)[0] in (1, 2), "the frames handed over before the stall are kept in the recording"


def test_a_missing_camera_says_what_to_do():
    with pytest.raises(CaptureError, match="--input FILE"):
        CameraSource(CameraSettings(index=9), opener=lambda _: _FlakyCapture(opened=False), log=lambda _: None)


def test_the_demo_writes_a_clip_and_a_before_after_picture(tmp_path):
    output = run_demo(tmp_path, window=False, log=lambda _: None)
    count, fps, _ = _probe(output.clip)
    assert count == output.summary.frames == 120 and fps == pytest.approx(30.0)
    assert output.summary.frames_with_faces == 120
    picture = cv2.imread(str(output.before_after))
    before, after = np.hsplit(picture, 2)
    assert picture is not None and not np.array_equal(before, after)


@pytest.mark.parametrize("config, message", [
    ('intensity = "high"', 'setting intensity = \'high\' is not allowed: use a number from 0 to 1'),
    ("squint = 1.5", "setting squint = 1.5 is not allowed: use a number from 0 to 1"),
    ("virtual-camera = 1", "setting virtual-camera = 1 is not allowed: use true or false"),
    ("camera = true", "setting camera = True is not allowed: use a webcam index"),
    ("width = -5", "setting width = -5 is not allowed: use a width in pixels, 16 or more"),
    ('effect = "sparkle"', "setting effect = 'sparkle' is not allowed: use one of glare, anxious, none"),
    ("fps = 0", "setting fps = 0 is not allowed: use frames per second"),
    ("efect = 'glare'", "unknown keys efect"),
])
def test_a_bad_config_value_is_one_line_naming_it_and_exit_status_2(tmp_path, capsys, config, message):
    path = tmp_path / "glare.toml"
    path.write_text(config + "\n")
    assert main(["run", "--config", str(path), "--no-window", "--record", str(tmp_path / "x.mp4")]) == 2
    error = capsys.readouterr().err
    assert message in error and str(path) in error
    assert len(error.strip().splitlines()) == 1 and "Traceback" not in error
    assert not (tmp_path / "x.mp4").exists()


def test_a_bad_flag_value_is_refused_before_anything_opens(tmp_path, capsys):
    assert main(["run", "--input", str(tmp_path), "--width", "-5", "--no-window", "--record", str(tmp_path / "x.mp4")]) == 2
    assert "setting width = -5 is not allowed" in capsys.readouterr().err


def test_each_recording_takes_a_new_file_and_an_existing_one_is_kept(tmp_path):
    from glare.sinks import Action

    existing = tmp_path / "clip.mp4"
    existing.write_bytes(b"an earlier clip")
    session = Session(RunSettings(input="unused", record=str(existing), window=False), log=lambda _: None)
    frame = np.zeros((48, 64, 3), np.uint8)
    try:
        session.step(frame, 0.0)  # --record starts at the first frame
        session.step(frame, 1 / 30)
        for _ in range(2):  # r stops, r starts again
            session.handle(Action.TOGGLE_RECORDING, frame)
        session.step(frame, 2 / 30)
    finally:
        session.close()
    assert existing.read_bytes() == b"an earlier clip"
    assert [(Path(path).name, frames) for path, frames in session.summary.recordings] == [("clip-2.mp4", 2),
                                                                                          ("clip-3.mp4", 1)]
    assert _probe(tmp_path / "clip-2.mp4")[0] == 2 and _probe(tmp_path / "clip-3.mp4")[0] == 1


def test_overwrite_replaces_the_existing_file_once(tmp_path):
    from glare.sinks import Action

    existing = tmp_path / "clip.mp4"
    existing.write_bytes(b"an earlier clip")
    session = Session(RunSettings(input="unused", record=str(existing), window=False, overwrite=True), log=lambda _: None)
    frame = np.zeros((48, 64, 3), np.uint8)
    try:
        session.step(frame, 0.0)
        for _ in range(2):
            session.handle(Action.TOGGLE_RECORDING, frame)
        session.step(frame, 0.1)
    finally:
        session.close()
    assert [Path(path).name for path, _ in session.summary.recordings] == ["clip.mp4", "clip-2.mp4"]
    assert _probe(existing)[0] == 1


KILLED_MID_RECORDING = """
import os, signal, sys
import numpy as np
from glare.sinks import VideoRecorder
recorder = VideoRecorder(sys.argv[1], 96, 64, 30.0)
for index in range(150):
    recorder.send(np.full((64, 96, 3), index, np.uint8), index / 30.0)
# ffmpeg (which imageio-ffmpeg starts in a process group of its own) and then this process, as a
# crash of the machine's session or `kill -9` of both would: nothing gets to finish the file.
with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as children:
    for child in children.read().split():
        os.kill(int(child), signal.SIGKILL)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_recording_killed_mid_clip_still_plays(tmp_path):
    import signal
    import subprocess

    path = tmp_path / "killed.mp4"
    process = subprocess.run([sys.executable, "-c", KILLED_MID_RECORDING, str(path)], capture_output=True, timeout=120)
    assert process.returncode == -signal.SIGKILL
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    # 150 frames at 30 fps were sent: all but the last second's play.
    assert 120 <= frames <= 150


def test_a_bad_input_opens_no_window_and_says_what_to_pass(tmp_path, capsys, monkeypatch):
    import glare.runner

    opened = []
    monkeypatch.setattr(glare.runner, "WindowSink", lambda: opened.append("window"))
    assert main(["run", "--input", str(tmp_path / "missing.mp4")]) == 2
    assert "does not exist: pass a video file, an image or a folder of images" in capsys.readouterr().err
    assert opened == []


def test_the_debug_overlay_is_on_the_window_only_and_d_keeps_the_effect(woman_video, monkeypatch):
    import glare.runner
    from glare.sinks import Action

    shown = []

    class CapturingWindow:
        def show(self, frame, wait_ms=1):
            shown.append(frame)
            return []

        def close(self):
            pass

    monkeypatch.setattr(glare.runner, "WindowSink", CapturingWindow)
    RecordingBackend.frames.clear()
    session = Session(RunSettings(input=str(woman_video), virtual_camera=True, show_fps=False), log=lambda _: None,
                      virtual_camera_backend="glare-test")
    source = open_source(input_path=woman_video)
    try:
        for index, captured in zip(range(6), source.frames()):
            if index == 3:
                session.handle(Action.TOGGLE_DEBUG, session.last_output)
            session.step(captured.image, captured.time_s)
    finally:
        source.close()
        session.close()
    assert session.show_debug and session.engine.gaze_settings.effect == "glare"
    sent = RecordingBackend.frames[-1].reshape(360, 640, 3)
    assert np.array_equal(sent, session.last_output), "the virtual camera gets the effect frame, no overlay"
    # The window's copy, once `d` is on, has the landmarks and boxes drawn over the face.
    left, top, right, bottom = (int(v) for v in session.last_result.faces[0].face.box)
    face_in_window, face_sent = shown[-1][top:bottom, left:right], sent[top:bottom, left:right]
    assert int((np.abs(face_in_window.astype(int) - face_sent.astype(int)).max(axis=2) > 0).sum()) > 100


def test_the_preview_opens_at_the_video_size_shrunk_only_to_fit():
    assert preview_size((640, 360)) == (640, 360)
    assert preview_size((1920, 1080)) == (1280, 720)
    # A portrait video is shrunk by its height, and keeps its ratio.
    assert preview_size((1080, 1920)) == (405, 720)


def test_a_file_shown_live_is_paced_at_its_own_rate_and_never_catches_up():
    clock = _FakeClock()
    session = Session(RunSettings(input="unused", window=False, virtual_camera=True), log=lambda _: None,
                      clock=clock, wait=clock.wait)
    for index in range(3):
        session.pace(10.0 + index / 25)  # a 25 fps file, its first frame at 10 s
    assert clock.waits == pytest.approx([0.04, 0.04])
    clock.now += 1.0  # a slow frame (or a pause): a second late
    session.pace(10.0 + 3 / 25)
    session.pace(10.0 + 4 / 25)
    assert clock.waits == pytest.approx([0.04, 0.04, 0.04]), "the late frame is shown at once, the next one a frame later"


def test_glare_run_paces_a_file_only_for_a_window_or_a_virtual_camera(woman_video, tmp_path):
    """Recording a file alone runs as fast as it can; sending it to a virtual camera plays it at its rate."""
    waits = {}
    for name, settings in (("record", RunSettings(input=str(woman_video), window=False, record=str(tmp_path / "a.mp4"))),
                           ("camera", RunSettings(input=str(woman_video), window=False, virtual_camera=True))):
        waits[name] = []
        session = Session(settings, log=lambda _: None, wait=waits[name].append)
        session.step = lambda image, time_s, photo=False, in_place=False: time_s < 0.3  # the first ten frames, no engine
        assert session.run().frames == 0
    assert waits["record"] == []
    # The waits here do not pass time, so each frame waits one frame interval longer than the one before.
    interval = 1 / cv2.VideoCapture(str(woman_video)).get(cv2.CAP_PROP_FPS)
    assert len(waits["camera"]) >= 8
    assert np.diff(waits["camera"]) == pytest.approx(interval, abs=0.01)


def test_run_uses_the_eye_model_and_landmark_model_it_is_given(tmp_path, woman_video):
    import face_recognition_models

    from glare.pupils.model import BUNDLED_MODEL
    from glare.runner import RunSettings, Session

    model = tmp_path / "mine.tflite"
    shutil.copy(BUNDLED_MODEL, model)
    shutil.copy(BUNDLED_MODEL.with_suffix(".json"), model.with_suffix(".json"))
    landmarks = tmp_path / "mine.dat"
    shutil.copy(face_recognition_models.pose_predictor_model_location(), landmarks)
    session = Session(RunSettings(input=str(woman_video), window=False, model=str(model), landmark_model=str(landmarks)))
    assert session.engine.analyser.locator.settings.model_path == model
    assert session.engine.analyser.tracker.settings.landmark_model == landmarks
    session.close()
    with pytest.raises(ValueError, match="glare-train landmarks"):
        RunSettings(input=str(woman_video), landmark_model=str(tmp_path / "missing.dat"))
