"""Changing the tree's shape through the filesystem (CONTRACT §3): making projects and
folders, renaming them and relabelling recordings, and deleting recordings, projects,
folders and the generated files that can be deleted (`X.star`, `X.note.txt`, calibrations).
Each change is written into the cached listings from the service's answer.

`rm` expands globs and finishes a list: what went away with something deleted earlier in
the same call (a sidecar with its original, a companion with its recording) is not an
error, and a refused entry does not stop the others; the first refusal is raised at the end.
"""

from __future__ import annotations

import dataclasses
import errno
import posixpath
from typing import TYPE_CHECKING, Any

from voicefs.api import VoiceClient
from voicefs.tree import names
from voicefs.tree.errors import path_error
from voicefs.tree.layout import ACCOUNT_DIRECTORY
from voicefs.tree.nodes import Node, NodeKind
from voicefs.tree.tree import Tree
from voicefs.tree.virtual import VirtualFiles

_GLOB_CHARACTERS = frozenset("*?[")


class Changes:
    """Mixed into VoiceFileSystem, which provides these attributes, `_node`, `exists`,
    `glob` and the protocol helpers."""

    client: VoiceClient
    tree: Tree
    virtual: VirtualFiles

    if TYPE_CHECKING:  # provided by VoiceFileSystem and fsspec's AbstractFileSystem

        def _node(self, path: str) -> Node: ...
        def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any: ...
        def exists(self, path: str, **kwargs: Any) -> bool: ...
        @classmethod
        def _strip_protocol(cls, path: Any) -> Any: ...
        @classmethod
        def _without_protocol(cls, path: Any) -> str: ...

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        shown = self._without_protocol(path).strip("/") or "/"
        path = self._strip_protocol(path)
        parent_path, name = posixpath.dirname(path), posixpath.basename(path)
        with self.tree.errors_at(shown):  # before anything is sent or any parent made
            names.check_new_name(shown, name)
        if self.exists(path):
            raise path_error(errno.EEXIST, "File exists", shown)
        refused = path_error(
            errno.EPERM,
            "Directories can only be made at the top (a project) or in a project (a folder)",
            shown,
        )
        if path.count("/") > 1 or parent_path == ACCOUNT_DIRECTORY:
            raise refused  # before making any parent: a refused mkdir changes nothing
        if create_parents and parent_path and not self.exists(parent_path):
            self.mkdir(parent_path, create_parents=True)
        parent = self._node(parent_path)
        with self.tree.errors_at(path):
            if parent.kind == NodeKind.ROOT:
                self.tree.remember_project(self.client.create_project(names.unescape(name)))
                return
            if parent.kind == NodeKind.PROJECT:
                folder = self.client.create_folder(parent.project_of().id, names.unescape(name))
                self.tree.remember_folder(folder)
                return
        raise refused

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        if self.exists(path):
            if not exist_ok or not self._node(path).is_directory:
                shown = self._without_protocol(path).strip("/") or "/"
                raise path_error(errno.EEXIST, "File exists", shown)
            return
        self.mkdir(path, create_parents=True)

    def mv(
        self,
        path1: str,
        path2: str,
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Renames within a directory (project, folder, label); see CONTRACT §3 for moves."""
        target = self._strip_protocol(path2)
        with self.tree.errors_at(target):
            names.check_new_name(target, posixpath.basename(target))
        source = self._node(path1)
        if self.exists(target):
            raise path_error(errno.EEXIST, "File exists", target)
        same_directory = posixpath.dirname(target) == source.parent_path
        new_name = names.unescape(posixpath.basename(target))
        with self.tree.errors_at(source.path):
            if same_directory and source.kind == NodeKind.PROJECT:
                renamed = self.client.rename_project(source.project_of().id, new_name)
                self.tree.remember_project(renamed)
                return
            if same_directory and source.kind == NodeKind.FOLDER:
                self.tree.remember_folder(
                    self.client.rename_folder(source.folder_of().id, new_name)
                )
                return
            if source.is_audio:
                self._move_recording(source, target, same_directory)
                return
        raise path_error(errno.EPERM, "This cannot be renamed or moved", source.path)

    def _move_recording(self, source: Node, target: str, same_directory: bool) -> None:
        recording = source.recording_of()
        if not same_directory:
            keeps_companions = recording.starred or recording.note is not None
            has_conversions = source.kind == NodeKind.ORIGINAL and bool(
                self.tree.conversions(source.folder_of(), recording)
            )
            if keeps_companions or has_conversions or source.kind == NodeKind.CONVERSION:
                raise path_error(
                    errno.EPERM,
                    "A recording with conversions, a note or a star cannot leave its folder",
                    source.path,
                )
            raise path_error(
                errno.EXDEV,
                "Recordings cannot move between folders: copy it, then delete the original",
                source.path,
            )
        stem, extension = names.split_extension(posixpath.basename(target))
        audio_extension = names.extension_of(recording.file_name, recording.url)
        if extension != audio_extension or not stem:
            raise path_error(
                errno.EPERM,
                f"A recording keeps its extension: rename it to <label>{audio_extension}",
                target,
            )
        label = names.unescape(stem)
        self.client.update_recording(recording.id, label=label)
        self.tree.remember_recording(
            source.folder_of().id, dataclasses.replace(recording, label=label)
        )

    rename = mv

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        """Removes recordings and generated files; with recursive=True also folders and
        projects, each in one request (the service deletes what they contain)."""
        errors: list[OSError] = []
        nodes = []
        for one in self._expand(path, errors):
            try:
                nodes.append(self._node(one))
            except FileNotFoundError as error:
                errors.append(error)
        recordings = {node.audio.id for node in nodes if node.audio is not None}
        for node in nodes:
            if _goes_with(node, recordings):
                continue
            try:
                self._remove(node, recursive)
            except FileNotFoundError:
                continue  # gone with something removed before it in this call
            except OSError as error:
                errors.append(error)
        if errors:
            raise errors[0]

    def _expand(self, path: Any, errors: list[OSError]) -> list[str]:
        """The paths to remove: each of a list, globs expanded; a glob that matches nothing
        is an error (FileNotFoundError) added to `errors`."""
        expanded: list[str] = []
        for one in path if isinstance(path, list | tuple) else [path]:
            if _GLOB_CHARACTERS.isdisjoint(str(one)):
                expanded.append(one)
                continue
            matches = sorted(self.glob(one))
            if not matches:
                errors.append(path_error(errno.ENOENT, "No such file or directory", str(one)))
            expanded += matches
        return list(dict.fromkeys(expanded))

    def _remove(self, node: Node, recursive: bool) -> None:
        if node.kind in (NodeKind.PROJECT, NodeKind.FOLDER):
            if not recursive:
                raise path_error(errno.EISDIR, "Is a directory (use recursive=True)", node.path)
            self._remove_directory(node, recursive=True)
        elif node.kind in (NodeKind.ROOT, NodeKind.SIDECAR) or node.is_directory:
            raise path_error(errno.EPERM, "This directory cannot be removed", node.path)
        else:
            self._remove_file(node)

    def rm_file(self, path: str) -> None:
        node = self._node(path)
        if node.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", node.path)
        self._remove_file(node)

    def _remove_file(self, node: Node) -> None:
        recording = node.audio
        if recording is None:
            self.virtual.delete(node)
            return
        with self.tree.errors_at(node.path):
            self.client.delete_recording(recording.id)
        self.tree.drop_recording(node.folder_of().id, recording)

    def rmdir(self, path: str) -> None:
        self._remove_directory(self._node(path), recursive=False)

    def _remove_directory(self, node: Node, recursive: bool) -> None:
        if node.kind not in (NodeKind.PROJECT, NodeKind.FOLDER):
            raise path_error(
                errno.EPERM,
                "Only projects and folders can be removed; a sidecar goes with its original",
                node.path,
            )
        with self.tree.errors_at(node.path):
            if not recursive and self._has_content(node):
                raise path_error(errno.ENOTEMPTY, "Directory not empty", node.path)
            if node.kind == NodeKind.PROJECT:
                self.client.delete_project(node.project_of().id)
                self.tree.drop_project(node.project_of().id)
            else:
                self.client.delete_folder(node.folder_of().id)
                self.tree.drop_folder(node.project_of().id, node.folder_of().id)

    def _has_content(self, node: Node) -> bool:
        if node.kind == NodeKind.PROJECT:
            return bool(self.tree.folders(node.project_of()))
        return bool(self.tree.recordings(node.folder_of()))


def _goes_with(node: Node, removed: set[str]) -> bool:
    """Whether deleting one of the `removed` recordings takes node with it: a sidecar and
    what it holds go with their original, a companion with its recording."""
    if node.original is not None and node.original.id in removed:
        return True
    recording = node.recording
    return node.kind == NodeKind.COMPANION and recording is not None and recording.id in removed
