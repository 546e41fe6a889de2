"""Choosing how to watch a folder: native OS events where they work, polling
for network shares (SMB/NFS send no reliable events) or when asked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from client.intake.settings import PollingMode

_NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "davfs"}
)


def _native_events_available() -> bool:
    """False where watchdog had to fall back to polling for everything."""
    return not issubclass(Observer, PollingObserver)  # type: ignore[arg-type]


def _linux_fstype(path: Path) -> str:
    best, kind = "", ""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                mount = fields[1].replace("\\040", " ")
                if (str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")) and len(
                    mount
                ) > len(best):
                    best, kind = mount, fields[2]
    except OSError:
        return ""
    return kind


def _is_network_path(path: Path) -> bool:
    """True for a folder on a network share."""
    text = os.path.abspath(path)
    if sys.platform == "win32":
        if text.startswith("\\\\"):
            return True
        import ctypes

        drive = os.path.splitdrive(text)[0] + "\\"
        drive_remote = 4
        return bool(ctypes.windll.kernel32.GetDriveTypeW(drive) == drive_remote)  # type: ignore[attr-defined]
    if sys.platform.startswith("linux"):
        return _linux_fstype(Path(text)) in _NETWORK_FILESYSTEMS
    return False


def wants_polling(path: Path, mode: PollingMode) -> bool:
    if mode is PollingMode.ON:
        return True
    if mode is PollingMode.OFF:
        return False
    return not _native_events_available() or _is_network_path(path)


def make_observer(polling: bool, interval: float) -> BaseObserver:
    if polling:
        return PollingObserver(timeout=interval)
    return Observer()
