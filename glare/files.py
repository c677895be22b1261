"""Writing files so that nothing is lost: whole or not at all, and never over a file the user keeps."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace ``path`` with ``content`` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb" if isinstance(content, bytes) else "w") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def free_path(requested: Path, taken: set[Path] = frozenset(), overwrite: bool = False) -> Path:
    """``requested``, or the first of name-2.ext, name-3.ext... that is free: never one of ``taken``
    (made earlier in this run), nor, without ``overwrite``, a file already there."""
    first = path = Path(requested)
    number = 1
    while path in taken or (path.exists() and not overwrite):
        number += 1
        path = first.with_name(f"{first.stem}-{number}{first.suffix}")
    return path
