"""Writing a user's output file whole or not at all."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from proctor.errors import InputError


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed to ``path`` when the block ends without
    error, else removed. No reader ever sees half a file, and a write that fails (a damaged
    entry, an interrupt, a full disk) leaves any earlier file at ``path`` as it was."""
    check_writable(path)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror or exc}); pick another path") from None
    finally:
        partial.unlink(missing_ok=True)


def check_writable(path: Path) -> None:
    """``InputError`` if ``path`` cannot be a new file: a directory, or in a missing one."""
    if path.is_dir():
        raise InputError(f"{path}: a directory; pass the path of a file to write")
    if not path.parent.is_dir():
        raise InputError(f"{path}: no such directory {path.parent}; create it first")
