"""The glare command on real and bad input: locate, eval, bench."""

import json
import re

import cv2
import numpy as np
import pytest

from glare.bench import FrameLayout, compare_layouts, run_bench
from glare.cli import main


@pytest.fixture()
def bad_inputs(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a picture")
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((1, 1, 3), np.uint8))
    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8))
    return {"text": text, "tiny": tiny, "noise": noise, "missing": tmp_path / "missing.jpg"}


def test_locate_writes_one_record_per_image_and_survives_bad_files(tmp_path, data_dir, bad_inputs):
    face_image = data_dir / "web-faces" / "0_0_0.jpg"
    out = tmp_path / "pupils.jsonl"
    paths = [str(face_image)] + [str(p) for p in bad_inputs.values()]
    assert main(["locate", *paths, "--method", "meanshift", "--jsonl", str(out)]) == 0
    records = {r["image"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert len(records) == 5
    face = records[str(face_image)]["faces"][0]
    # 0_0_0.jpg is labelled with the person's right eye at (151, 147) and left eye at (246, 148).
    assert np.hypot(face["right_eye"]["pupil"][0] - 151, face["right_eye"]["pupil"][1] - 147) < 6
    assert np.hypot(face["left_eye"]["pupil"][0] - 246, face["left_eye"]["pupil"][1] - 148) < 6
    assert face["right_eye"]["iris_radius"] > 0 and 0 <= face["left_eye"]["confidence"] <= 1
    assert "error" in records[str(bad_inputs["text"])]
    assert "error" in records[str(bad_inputs["missing"])]
    assert records[str(bad_inputs["tiny"])]["faces"] == []
    assert records[str(bad_inputs["noise"])]["faces"] == []


def test_eval_prints_a_table_and_writes_the_plot(tmp_path, data_dir, capsys):
    lines = (data_dir / "eye-centres.txt").read_text().splitlines()[:12]
    labels = tmp_path / "eye-centres.txt"
    # Paths in the file are relative to its folder: point them back at the shared data.
    labels.write_text("\n".join(f"{data_dir / line.split()[0]} {' '.join(line.split()[1:])}" for line in lines))
    plot = tmp_path / "curve.png"
    assert main(["eval", "--labels", str(labels), "--split", "all", "--methods", "centroid", "meanshift",
                 "--plot", str(plot)]) == 0
    table = capsys.readouterr().out
    assert "centroid" in table and "meanshift" in table and "e<=0.025" in table
    assert "12 faces scored" in table
    found = re.search(r"found by HOG (\d+), by the CNN where HOG found none (\d+), by neither \(labelled box used\) (\d+)", table)
    assert found and sum(int(count) for count in found.groups()) == 12
    assert cv2.imread(str(plot)) is not None


def test_eval_refuses_a_malformed_label_file(tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("face.jpg 1 2 three 4 5 6 7 8\n")
    assert main(["eval", "--labels", str(labels), "--split", "all"]) == 2
    assert "labels.txt:1" in capsys.readouterr().err


def test_bench_reports_both_loops(woman_video, capsys):
    assert main(["bench", "--input", str(woman_video), "--frames", "12", "--method", "meanshift"]) == 0
    out = capsys.readouterr().out
    assert "per frame (all three)" in out and "faster than the naive loop" in out
    assert "faces found: glare 11, naive 11" in out


def test_bench_on_a_missing_video_says_so(tmp_path, capsys):
    assert main(["bench", "--input", str(tmp_path / "nope.mp4")]) == 2
    assert "cannot open video" in capsys.readouterr().err


def test_bench_times_every_effect_on_every_frame(woman_video):
    report = run_bench(woman_video, max_frames=8, skip_naive=True, effects=("none", "glare", "anxious"))
    assert list(report.effects) == ["none", "glare", "anxious"]
    for timings in report.effects.values():
        assert len(timings.per_stage["render"]) == report.frames == 7
        assert timings.faces_found == 7


def test_bench_lays_the_clip_out_larger_and_as_a_four_face_mosaic(woman_video, capsys):
    report = run_bench(woman_video, max_frames=4, skip_naive=True, effects=("glare",), layout=FrameLayout(mosaic=2))
    assert report.frame_size == (1280, 720)
    assert report.effects["glare"].faces_found == report.glare.faces_found == 3 * 4
    assert main(["bench", "--input", str(woman_video), "--frames", "3", "--no-naive", "--effects", "none",
                 "--size", "1920x1080"]) == 0
    assert "frames of 1920x1080" in capsys.readouterr().out


def test_bench_compares_a_larger_layout_in_passes_taken_in_turn(woman_video, capsys):
    comparison = compare_layouts(woman_video, FrameLayout(mosaic=2), rounds=2, max_frames=4)
    assert (comparison.own, comparison.larger) == ("640x360", "1280x720 (2x2 mosaic)")
    assert len(comparison.rounds) == len(comparison.ratios) == 2
    assert all(own > 0 and larger > 0 for own, larger in comparison.rounds)
    assert min(comparison.ratios) <= comparison.ratio <= max(comparison.ratios)
    # Without --effects it times the glare effect, not the first of the bench's usual list (none).
    assert main(["bench", "--input", str(woman_video), "--frames", "3", "--size", "1280x720", "--in-turn", "1"]) == 0
    out = capsys.readouterr().out
    assert "the whole glare effect" in out and "1280x720 costs" in out
    with pytest.raises(ValueError, match="rounds"):
        compare_layouts(woman_video, FrameLayout(mosaic=2), rounds=0)


def test_bench_in_turn_needs_a_larger_layout_and_frames_to_time(woman_video, capsys):
    assert main(["bench", "--input", str(woman_video), "--in-turn", "3"]) == 2
    assert "--size" in capsys.readouterr().err
    assert main(["bench", "--input", str(woman_video), "--size", "1280x720", "--in-turn", "1", "--frames", "1"]) == 2
    assert "fewer than two frames" in capsys.readouterr().err


def test_bench_says_how_to_write_a_frame_size(woman_video, capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--input", str(woman_video), "--size", "1920by1080"])
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
