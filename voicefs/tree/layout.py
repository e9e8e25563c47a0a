"""The fixed names of the tree (CONTRACT §2): the files voicefs generates and the names they
reserve before any recording can take them."""

from __future__ import annotations

from voicefs.tree.nodes import Role

ACCOUNT_DIRECTORY = ".voicefs"
MANIFEST = "recordings.csv"
ORDER = "order.txt"
ROOT_RESERVED = (ACCOUNT_DIRECTORY,)
FOLDER_RESERVED = (MANIFEST,)
SIDECAR_RESERVED = (ORDER, MANIFEST)

ACCOUNT_FILES = (
    ("voices.csv", Role.VOICES),
    ("credits.json", Role.CREDITS),
    ("stats.json", Role.STATS),
    ("calibration.txt", Role.CALIBRATION),
    ("errors.log", Role.ERRORS),
    ("status.json", Role.STATUS),
)
EXPORT_SUFFIXES = ((".zip", Role.EXPORT), (".starred.zip", Role.EXPORT_STARRED))
