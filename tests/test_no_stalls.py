"""The live loop's compiled code is ready before the first frame: a compiled function first called with
argument types it has not seen loads (or compiles) another version on the frame's path, 7-10 ms."""

import subprocess
import sys

import cv2
from numba.core.registry import CPUDispatcher

from glare.engine import AnalysisSettings, FaceAnalyser
from glare.faces import FaceFinder, TrackerSettings


def _compiled_versions() -> dict[str, int]:
    """How many versions each of glare's compiled functions has loaded so far."""
    return {f"{name}.{attribute}": len(value.signatures)
            for name, module in list(sys.modules.items()) if name.startswith("glare.")
            for attribute, value in vars(module).items() if isinstance(value, CPUDispatcher)}


def _check() -> None:
    """An engine made, then a second of the demo clip and the mean-shift fallback (which takes the eyes the
    model is unsure of; the portrait may have none): no compiled function loads a version the engine's
    making did not."""
    from glare.demo import demo_frames
    from glare.engine import Engine, EngineSettings
    from glare.eyes import upright_crop

    engine = Engine(EngineSettings(analysis=AnalysisSettings(tracker=TrackerSettings(search_in_thread=False))))
    ready = _compiled_versions()
    assert {"glare.landmark_predictor._fit", "glare.face_regions._thumbnail",
            "glare.pupils.meanshift.shift_to_modes"} <= set(ready)
    faces_seen = 0
    for frame, time_s in demo_frames(seconds=1.0):
        _, result = engine.process(frame, time_s)
        faces_seen += len(result.faces)
    crop = upright_crop(frame, result.faces[0].eyes[0].eye, engine.analyser.locator.geometry)
    assert engine.analyser.locator.fallback.locate_in_crop(crop) is not None
    assert faces_seen == 30
    loaded = {name: count - ready.get(name, 0) for name, count in _compiled_versions().items()
              if count > ready.get(name, 0)}
    assert not loaded, f"loaded on a frame's path: {loaded}"


def test_no_frame_loads_compiled_code():
    # In a process of its own: in this one, earlier tests may have loaded every version already.
    run = subprocess.run([sys.executable, __file__], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_analyser_keeps_opencv_to_one_thread_unless_told_otherwise():
    # OpenCV's threads are the process's: the setting is put back as it was after the test.
    before, finder = cv2.getNumThreads(), FaceFinder(cnn_fallback=False)
    tracker = TrackerSettings(search_in_thread=False)
    try:
        cv2.setNumThreads(2)
        FaceAnalyser(AnalysisSettings(tracker=tracker, opencv_threads=None), finder=finder)
        assert cv2.getNumThreads() == 2
        FaceAnalyser(AnalysisSettings(tracker=tracker), finder=finder)
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)


if __name__ == "__main__":
    _check()
