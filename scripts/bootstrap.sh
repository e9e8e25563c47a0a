#!/usr/bin/env bash
# Installs what voicefs needs on a fresh Debian machine with Python, idempotently:
# system packages (when apt is there and we may use it) and a virtualenv in .venv
# with voicefs and its emulator and test extras. Sourced by scripts/demo and scripts/test.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

# fuse3 + libfuse3-3: the mount (fusermount3 and the library mfusepy loads).
# espeak-ng: real speech for the emulator's text-to-speech (it falls back to a synthetic voice).
# rsync, sox, attr (getfattr), vim, libglib2.0-bin (gio), pv, ffmpeg, curl, perl, sed: the
# tools the mount tests drive as a user would (shell redirection, streamed WAV, in-place edits,
# downloads renamed into place).
# litmus, rclone, davfs2: the WebDAV clients the server's tests drive it with.
SYSTEM_PACKAGES=(fuse3 libfuse3-3 espeak-ng rsync sox attr vim libglib2.0-bin pv ffmpeg curl perl sed litmus rclone davfs2)

missing_system_packages() {
    local pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

install_system_packages() {
    command -v apt-get >/dev/null 2>&1 || return 0
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local missing
    missing=$(missing_system_packages | tr "\n" " ")
    [ -n "$missing" ] || return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            echo "voicefs: please install these system packages: $missing" >&2
            return 0
        fi
    fi
    echo "voicefs: installing system packages: $missing" >&2
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

install_python_packages() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
}

install_system_packages
install_python_packages
export PATH="$VENV/bin:$PATH"
