"""--callback-host-map: rewrite the host of a CallBackURL before posting, and explain failures.

A shop on the host registers http://localhost:8000/... as its CallBackURL; an emulator in a
container would post that to itself. `localhost=host.docker.internal` sends it to the host.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
DOCKER_HOST = "host.docker.internal"


def parse_host_map(text: str) -> tuple[str, str]:
    """'localhost=host.docker.internal' -> ('localhost', 'host.docker.internal')."""
    source, sep, target = text.partition("=")
    source, target = source.strip().lower(), target.strip()
    if not sep or not source or not target or "/" in target:
        raise ValueError(f"expected HOST=NEWHOST, got {text!r}")
    return source, target


def map_host(url: str, host_map: Mapping[str, str]) -> str:
    """The URL with its host replaced when the map names it; port, path and query kept."""
    if not host_map:
        return url
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return url  # not a URL we can take apart: post it as it is and let that fail
    target = host_map.get(host or "")
    if target is None:
        return url
    if ":" in target and not target.startswith("["):
        target = f"[{target}]"  # an IPv6 address
    netloc = target if port is None else f"{target}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    return urlunsplit(parts._replace(netloc=netloc))


_CONTAINER_MARKS = ("docker", "containerd", "kubepods", "libpod", "lxc")


@functools.lru_cache(maxsize=1)
def in_container() -> bool:
    """Whether this process likely runs in a container (Docker, Podman, Kubernetes, LXC): only
    then is --callback-host-map the likely cure for an unreachable localhost receiver."""
    if os.environ.get("container") or Path("/.dockerenv").exists():
        return True
    if Path("/run/.containerenv").exists():  # Podman
        return True
    try:
        cgroup = Path("/proc/1/cgroup").read_text(errors="replace")
    except OSError:
        return False
    return any(mark in cgroup for mark in _CONTAINER_MARKS)


def unreachable_hint(url: str) -> str:
    """Why a callback host may be out of reach, naming it; for the attempt's `error`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        where = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        host = where = "?"
    text = f"could not reach callback host {where}"
    if host in LOOPBACK:
        if in_container():
            return (
                f"{text}, which is the emulator's own container; if the receiver runs on the "
                f"host, use --callback-host-map {host}={DOCKER_HOST}"
            )
        return f"{text}, which is the emulator's own machine: is the receiver running there?"
    if host == DOCKER_HOST:
        return f"{text}; on Linux start the container with --add-host={DOCKER_HOST}:host-gateway"
    return text
