"""What a process costs, read from /proc: resident memory, open descriptors, listeners.

Linux only, and free of psutil: the figures come straight from the kernel's files.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path


def _status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"no {field} in /proc/{pid}/status")


def rss_kib(pid: int | str = "self") -> int:
    """Resident memory now, in KiB (VmRSS)."""
    return _status_kib(pid, "VmRSS")


def peak_rss_kib(pid: int | str = "self") -> int:
    """The highest resident memory since the process started or since
    :func:`reset_peak_rss`, in KiB (VmHWM)."""
    return _status_kib(pid, "VmHWM")


def reset_peak_rss(pid: int | str = "self") -> None:
    """Start VmHWM afresh from the current RSS (``5`` to ``clear_refs``, Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def open_fds(pid: int | str = "self") -> int:
    """How many file descriptors the process holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _address(hex_address: str) -> tuple[str, int]:
    host_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(host_hex)
    # The kernel prints each 32-bit word of the address in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words)), int(port_hex, 16)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """The (address, port) pairs on which the process has a listening TCP socket."""
    inodes = _socket_inodes(pid)
    listening = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: TCP_LISTEN
                listening.add(_address(local))
    return listening
