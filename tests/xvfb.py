"""Helpers for tests that drive real OpenCV windows on a virtual X display (Xvfb) with xdotool."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

needs_xvfb = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (Debian: apt-get install xvfb xdotool)",
)


def xdotool(display: str, *args: str, timeout: float = 60) -> str:
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=timeout, check=True).stdout.strip()


class AppLog:
    """An app's standard output, read line by line until an expected line arrives (a handshake, no sleeping)."""

    def __init__(self, app: subprocess.Popen):
        self.app = app
        self.seen: list[str] = []

    def wait_for(self, prefix: str) -> str:
        for line in self.app.stdout:
            self.seen.append(line.rstrip())
            if line.startswith(prefix):
                return line.rstrip()
        raise AssertionError(f"the app ended before printing {prefix!r}: {self.seen}")
