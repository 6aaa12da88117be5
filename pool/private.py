"""Files that hold personal data are created readable by their owner only."""
from __future__ import annotations

import os
from pathlib import Path


def open_private(path: str | Path, mode: str = "w", **kwargs):
    """Open ``path`` for writing, created (or reset) with permissions 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode otherwise
    return os.fdopen(fd, mode, **kwargs)
