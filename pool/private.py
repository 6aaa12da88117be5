"""Files that hold personal data are created readable by their owner only."""
from __future__ import annotations

import os
from pathlib import Path


def open_private(path: str | Path, mode: str = "w", **kwargs):
    """Open ``path`` for writing, created (or reset) with permissions 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode otherwise
    return os.fdopen(fd, mode, **kwargs)


def output_path(path: str | Path, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` as a file Otos may write: its folder exists and is writable, and its
    name ends in one of ``suffixes`` (if given). Otherwise an OtosError that says so."""
    from pool.errors import OtosError

    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OtosError(f"{path}: the file name must end in {' or '.join(suffixes)}.")
    folder = path.parent
    if not folder.is_dir():
        raise OtosError(f"{folder}: no such folder.", hint="Create it first, or write the file somewhere else.")
    if not os.access(folder, os.W_OK):
        raise OtosError(f"{folder}: this user may not write there.", hint="Write the file somewhere else.")
    if path.is_dir():
        raise OtosError(f"{path} is a folder; give a file name.")
    return path
