"""The fixed names of the tree (CONTRACT §2): the files voicefs generates and the names they
reserve before any recording can take them."""

from __future__ import annotations

from voicefs.tree.nodes import Role

ACCOUNT_DIRECTORY = ".voicefs"
MANIFEST = "recordings.csv"
ORDER = "order.txt"
PROJECTS_TABLE = "projects.csv"
FOLDERS_TABLE = "folders.csv"
ROOT_RESERVED = (ACCOUNT_DIRECTORY, PROJECTS_TABLE)
PROJECT_RESERVED = (FOLDERS_TABLE,)
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

# A voice's directory, /.voicefs/voices/<voice>/: these names come before any sample's.
VOICE_ABOUT = "about.json"
VOICE_FAVORITE = "favorite"
VOICE_SETTINGS = "settings.txt"
VOICE_RESERVED = (VOICE_ABOUT, VOICE_FAVORITE, VOICE_SETTINGS)
SAMPLE_EXTENSION = ".wav"  # a sample's name until the service has said where its audio is
