"""`voicefs demo`: the emulator with the demo account, mounted, until Ctrl-C.

The emulator runs as a child process on a free loopback port with its data in a directory of
its own; the mount runs in the foreground here and takes the demo key from the environment it
is given, never from argv. Ctrl-C unmounts and stops the emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from voicefs.mount.runner import MountError, MountOptions, mount

DEMO_API_KEY = "demo-key-0123456789abcdef"  # the emulator's demo seed, public on purpose


def try_this(mountpoint: Path, url: str, started_in: Path) -> str:
    """What to try, for a terminal in `started_in`, the directory the demo was started in
    (the drive's process is elsewhere by the time it is ready)."""
    folder = mountpoint / "Audiobook" / "Chapter 1"
    return textwrap.dedent(
        f"""
        voicefs demo: the demo account is mounted at {mountpoint}.
        In another terminal, in {started_in}:
          ls -l "{folder}"
          soxi "{folder}/opening.wav"
          sox -n my-take.wav synth 2 sine 440          (or any .wav .flac .ogg .mp3 of yours)
          cp my-take.wav "{folder}/"
          echo Alice | tee "{folder}/my-take.wav.conversions/order.txt"
          ls "{folder}/my-take.wav.conversions"        (Alice.wav.processing, then Alice.wav)
          play "{folder}/my-take.wav.conversions/Alice.wav"
          cat "{mountpoint}/.voicefs/credits.json"
        For the voicefs command and Python (voicefs://) in another terminal:
          {demo_exports(url)}
        Ctrl-C unmounts and stops the emulator.
        """
    )


def demo_exports(url: str) -> str:
    """The shell line that points `voicefs` commands and `fsspec.filesystem("voicefs")` at the
    demo's emulator (the demo key is public: it is the emulator's seed)."""
    return f"export VOICEFS_URL={url} VOICEFS_API_KEY={DEMO_API_KEY}"


def run_demo(mountpoint: Path, cache_dir: Path | None = None) -> int:
    started_in = Path.cwd()
    mountpoint.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voicefs-demo-") as scratch:
        data = Path(scratch) / "emulator"
        emulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voicefs",
                "emulator",
                "--seed",
                "demo",
                "--port",
                "0",
                "--data",
                str(data),
                "--ready-json",
                "--api-key",
                DEMO_API_KEY,
            ],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the emulator itself
        )
        try:
            ready = emulator.stdout.readline() if emulator.stdout else ""
            if not ready:
                print("voicefs demo: the emulator did not start", file=sys.stderr)
                return 1
            url = json.loads(ready)["url"]
            os.environ["VOICEFS_API_KEY"] = DEMO_API_KEY
            options = MountOptions(
                mountpoint=mountpoint,
                url=url,
                foreground=True,
                cache_dir=cache_dir or Path(scratch) / "cache",
            )
            hints = try_this(mountpoint, url, started_in)
            mount(options, on_ready=lambda: print(hints, flush=True))
        except MountError as exc:
            print(f"voicefs demo: {exc}", file=sys.stderr)
            return 1
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
    return 0
