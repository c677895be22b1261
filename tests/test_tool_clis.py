"""The command lines of the eye-model tools: clear errors, nothing overwritten."""

import cv2
import numpy as np
import pytest

from glare.labeler.cli import images_from, main as label_main


def test_label_refuses_a_broken_label_file_and_leaves_it(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((40, 64), np.uint8))
    (tmp_path / "labels.json").write_text("{not json")
    assert label_main([str(tmp_path), "--predict", "none"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert (tmp_path / "labels.json").read_text() == "{not json"


def test_label_without_a_display_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((40, 64), np.uint8))
    assert label_main([str(tmp_path), "--predict", "none"]) == 2
    assert "no display" in capsys.readouterr().err
    assert not (tmp_path / "labels.json").exists()


def test_a_manifest_lists_its_photos_once_in_order(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text('{"image": "/x/b.jpg"}\n{"image": "/x/b.jpg"}\n{"image": "/x/a.jpg"}\n')
    assert [p.name for p in images_from(manifest)] == ["b.jpg", "a.jpg"]


def test_train_cli_reports_a_missing_folder(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from glare.training.cli import main as train_main

    assert train_main(["prepare", "--images", str(tmp_path / "nowhere"), "--out", str(tmp_path / "eyes")]) == 2
    assert "does not exist" in capsys.readouterr().err
