"""Docker's ``info`` and ``version`` documents for a root on this machine: one source for ``dockyard info``
and ``dockyard version --format`` and for the Engine API's ``GET /info`` and ``GET /version``.

The values are Docker's where dockyard does the same thing (storage driver ``overlay2``, cgroupfs, the
json-file log driver, the ``runc`` runtime name); the machine's figures (kernel, CPUs, memory, operating
system) are read from the host. Swarm is ``inactive``: dockyard has none.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

#: The Engine API version the documents follow, and the oldest one served.
API_VERSION = "1.43"
MIN_API_VERSION = "1.24"


def go_arch() -> str:
    """The machine as Go names it (``amd64``, ``arm64``), as Docker's version shows it."""
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}.get(machine, machine)


def os_name() -> str:
    """PRETTY_NAME of /etc/os-release, as Docker's info shows the operating system."""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key == "PRETTY_NAME":
                    return value.strip('"')
    except OSError:
        pass
    return "Linux"


def mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def version_document(version: str) -> dict[str, Any]:
    """Docker's server version (``GET /version``, ``docker version``'s Server) of dockyard ``version``."""
    common = {
        "Version": version,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": f"python{platform.python_version()}",
        "Os": "linux",
        "Arch": go_arch(),
        "KernelVersion": platform.release(),
        "BuildTime": "",
    }
    return {
        "Platform": {"Name": "dockyard"},
        "Experimental": False,
        "Components": [{"Name": "Engine", "Version": version, "Details": dict(common)}],
        **common,
    }


def info_document(root: str, states: list[str], images: int, version: str) -> dict[str, Any]:
    """Docker's info (``GET /info``, ``docker info --format '{{json .}}'``) for the root at ``root`` holding
    containers in ``states`` and ``images`` images."""
    from ..humanize import rfc3339

    running = sum(1 for s in states if s in ("running", "restarting"))
    paused = states.count("paused")
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    return {
        "ID": "",
        "Containers": len(states),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": len(states) - running - paused,
        "Images": images,
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "null"],
            "Authorization": None,
            "Log": ["json-file", "none"],
        },
        "MemoryLimit": True,
        "SwapLimit": True,
        "KernelMemory": False,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "OomKillDisable": not v2,
        "IPv4Forwarding": True,
        "BridgeNfIptables": True,
        "BridgeNfIp6tables": True,
        "Debug": False,
        "NFd": len(os.listdir("/proc/self/fd")),
        "NGoroutines": 0,
        "SystemTime": rfc3339(time.time()),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if v2 else "1",
        "NEventsListener": 0,
        "KernelVersion": platform.release(),
        "OperatingSystem": os_name(),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": None,
        "NCPU": os.cpu_count() or 0,
        "MemTotal": mem_total(),
        "GenericResources": None,
        "DockerRootDir": root,
        "HttpProxy": "",
        "HttpsProxy": "",
        "NoProxy": "",
        "Name": platform.node(),
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": version,
        "Runtimes": {"runc": {"path": "dockyard"}},
        "DefaultRuntime": "runc",
        "Swarm": {
            "NodeID": "",
            "NodeAddr": "",
            "LocalNodeState": "inactive",
            "ControlAvailable": False,
            "Error": "",
            "RemoteManagers": None,
        },
        "LiveRestoreEnabled": True,
        "Isolation": "",
        "InitBinary": "tini",
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": ["name=seccomp,profile=builtin"] + (["name=cgroupns"] if v2 else []),
        "Warnings": None,
    }
