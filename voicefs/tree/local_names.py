"""Names that mean nothing on the service and stay local (CONTRACT §3): the scratch and
temporary files real programs make beside the file they write, then rename into place or
delete. A drive keeps them on local disk and never sends them; renaming one onto a meaningful
name performs that write. One list, for every front-end (the mount, the WebDAV server).

Each pattern is taken from the program's own source or documentation, named beside it; see
docs/semantics.md for the table users read.
"""

from __future__ import annotations

import re

_LOCAL_FILE = re.compile(
    r"""(
        \..+\.sw[a-z]                  # vim's swap files and probes: .name.swp, .swo (memline.c)
      | [0-9]{4,6}                     # vim's probe of a writable directory: 4913 (bufwrite.c)
      | .+~                            # backups: name~ (vim's 'backupext', emacs, cp --backup)
      | \.\#.+ | \#.+\#                # emacs's lock and autosave files
      | \..+\.[A-Za-z0-9]{6}           # rsync's .name.XXXXXX (receiver.c, get_tmpname)
      | \.goutputstream-[A-Za-z0-9]{6}  # GLib's g_file_replace (glocalfileoutputstream.c)
      | \._.+ | \.DS_Store             # macOS AppleDouble files and folder settings
      | desktop\.ini | Thumbs\.db       # Windows Explorer's folder settings and thumbnails
      | sed[A-Za-z0-9]{6}              # GNU sed -i: "sed" + mkostemp's XXXXXX (execute.c)
      | XX[A-Za-z0-9]{6}               # perl -i: mkstemp("XXXXXXXX") beside the file (doio.c)
      | tmp[a-z0-9_]{8}(\..+)?         # Python's tempfile: "tmp" + 8 of [a-z0-9_] + suffix
      | .+\.tmp                        # atomic writers' and Office's temporaries (~WRL0001.tmp)
      | .+\.part | .+\.partial          # downloads: Firefox, KDE's KIO (.part), others
      | .+\.crdownload                 # Chromium's downloads
      | \.~lock\..+\#                  # LibreOffice's lock file: .~lock.<name># (svl)
      | ~\$.+                          # Microsoft Office's owner file: ~$name
    )""",
    re.VERBOSE,
)

_LOCAL_DIRECTORY = re.compile(r"\.Trash(-\d+)?")  # a file manager's trash: refused, never kept


def is_local_name(name: str) -> bool:
    """Whether a file named `name` is a scratch or temporary file, kept local."""
    return _LOCAL_FILE.fullmatch(name) is not None


def is_trash_name(name: str) -> bool:
    """Whether a directory named `name` is a file manager's trash (the drive has none)."""
    return _LOCAL_DIRECTORY.fullmatch(name) is not None
