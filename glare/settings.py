"""Where glare finds things that do not ship inside the package."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_VARIABLE = "GLARE_DATA"


def shared_data_dir() -> Path:
    """The folder of real training and test data: ``$GLARE_DATA``, else ``../shared/data``.

    The default is relative to the project's root (the folder holding ``glare/``), so that
    tests and commands find the data beside a checkout wherever they are started from.
    """
    configured = os.environ.get(DATA_DIR_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    project_root = Path(__file__).resolve().parent.parent
    return project_root.parent / "shared" / "data"
