"""The installed package: the wheel puts everything inside the glare namespace, and its commands run."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_wheel_installs_training_and_the_labeller_inside_glare(tmp_path):
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)], tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("glare-*.whl")
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path).returncode == 0
    python = venv / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                     tmp_path)
    assert installed.returncode == 0, installed.stderr
    # The dependencies (NumPy, OpenCV, dlib...) come from this environment's site-packages, read as a plain
    # path: its .pth files (this checkout's editable install among them) are not run there.
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    def imports(module: str) -> bool:
        return _run([str(python), "-c", f"import {module}"], tmp_path).returncode == 0

    assert not imports("training") and not imports("labeler"), "generic top-level names were installed"
    assert imports("glare.training.cli") and imports("glare.labeler.cli")
    located = _run([str(python), "-c", "import glare; print(glare.__file__)"], tmp_path).stdout
    assert str(site) in located, "glare was imported from the checkout, not the wheel"
    for command in ("glare", "glare-train", "glare-label"):
        shown = _run([str(venv / "bin" / command), "--help"], tmp_path)
        assert shown.returncode == 0 and "usage:" in shown.stdout, (command, shown.stderr)


def test_the_runtime_imports_neither_the_tools_nor_plotting():
    code = ("import sys, glare.cli, glare.runner, glare.api, glare.photos, glare.locate, glare.bench, glare.evaluation; "
            "print(sorted(m for m in sys.modules if m.split('.')[:2] in (['glare', 'training'], ['glare', 'labeler']) "
            "or m.split('.')[0] in ('training', 'labeler', 'matplotlib', 'tensorflow')))")
    result = _run([sys.executable, "-c", code], ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
