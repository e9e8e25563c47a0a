"""What voicefs keeps on local disk is its user's alone: directories 0700, files 0600.

`Path.mkdir(parents=True, mode=…)` gives the mode to the last directory only; the ones made
on the way get the umask's, which lets other users list a cache of someone's recordings.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """Makes path and any missing parents 0700 (existing ones are left as they are)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:  # made meanwhile (another mount): fine
            pass
        else:
            os.chmod(directory, DIRECTORY_MODE)  # whatever the umask took away
    return path
