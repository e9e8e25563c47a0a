"""Fixtures for the API client's tests: isolated config and environment, clients, audio."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.emulator_process import Account
from voicefs.api import Folder, Project, VoiceClient


def make_client(account: Account, **options: Any) -> VoiceClient:
    """A key-authenticated client with short backoffs, so fault tests take seconds."""
    options.setdefault("backoff", 0.02)
    return VoiceClient(account.url, api_key=account.api_key, **options)


@pytest.fixture
def client(account: Account) -> Iterator[VoiceClient]:
    with make_client(account) as api:
        yield api


@pytest.fixture
def project(client: VoiceClient) -> Project:
    return client.create_project("Test project")


@pytest.fixture
def folder(client: VoiceClient, project: Project) -> Folder:
    return client.create_folder(project.id, "Takes")


WavFactory = Callable[..., Path]


@pytest.fixture
def wav(tmp_path: Path) -> WavFactory:
    """Writes a 440 Hz tone as a WAV file: wav("name.wav", seconds=0.2) -> path."""

    def write(name: str = "tone.wav", seconds: float = 0.2, rate: int = 16000) -> Path:
        path = tmp_path / name
        t = np.arange(int(seconds * rate)) / rate
        soundfile.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), rate, subtype="PCM_16")
        return path

    return write
