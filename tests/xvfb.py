"""Helpers for tests that drive real OpenCV windows on a virtual X display (Xvfb) with xdotool."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading

import pytest

needs_xvfb = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (Debian: apt-get install xvfb xdotool)",
)


def xdotool(display: str, *args: str, timeout: float = 60) -> str:
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=timeout, check=True).stdout.strip()


class AppLog:
    """An app's standard output, read line by line until an expected line arrives (a handshake, no
    sleeping). A reader thread feeds a queue, so a hung app fails the test after ``timeout_s``
    instead of hanging the run."""

    def __init__(self, app: subprocess.Popen, timeout_s: float = 120.0):
        self.app = app
        self.timeout_s = timeout_s
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.app.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, prefix: str) -> str:
        """The first line from now that starts with ``prefix``."""
        line = self._next_line(f"no {prefix!r}")
        while line is not None:
            if line.startswith(prefix):
                return line
            line = self._next_line(f"no {prefix!r}")
        raise AssertionError(f"the app ended before printing {prefix!r}: {self.seen}")

    def wait_for_exit(self) -> int:
        """The app's exit status, once it has closed its output."""
        while self._next_line("the app did not exit") is not None:
            pass
        return self.app.wait(timeout=self.timeout_s)

    def _next_line(self, failure: str) -> str | None:
        try:
            line = self._lines.get(timeout=self.timeout_s)
        except queue.Empty:
            self.app.kill()
            raise AssertionError(f"{failure} within {self.timeout_s:g} s: {self.seen}") from None
        if line is not None:
            self.seen.append(line.rstrip())
            return line.rstrip()
        return None
