"""A Docker Hub mirror on the loopback network for bench/dockerpy_suite.py.

Debian's ``docker-registry`` listens on 127.0.0.1 and holds, under Docker Hub's names (``library/NAME``), the
images docker-py's tests pull (``MIRRORED``), made from the scratch root's busybox; the root's ``daemon.json``
names it in ``registry-mirrors``. Those pulls are then served on the machine: dockyard never turns to Docker
Hub itself when a mirror is set.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time

# Docker Hub reference -> what the mirror serves under it: busybox itself, or a small image of its own
# (hello-world: the tests prune it while busybox stays in use, so it must be another image)
MIRRORED = {
    "busybox:latest": "busybox",
    "alpine:latest": "busybox",
    "alpine:3.10": "busybox",
    "hello-world:latest": "hello",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hello_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"Hello from a mirror on this machine.\n"
        ti = tarfile.TarInfo("hello.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


class HubMirror:
    """``docker-registry serve`` on 127.0.0.1:<free port>, storing under ``directory``."""

    def __init__(self, directory: str) -> None:
        if shutil.which("docker-registry") is None:
            raise SystemExit("docker-registry is missing (apt-get install docker-registry)")
        os.makedirs(directory, exist_ok=True)
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        config = os.path.join(directory, "config.yml")
        with open(config, "w") as f:
            f.write(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                f"storage:\n  filesystem:\n    rootdirectory: {os.path.join(directory, 'storage')}\n"
                f"http:\n  addr: {self.host}\n"
            )
        self.log = open(os.path.join(directory, "registry.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", config], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"docker-registry did not listen on {self.host}") from None
                time.sleep(0.05)

    def fill(self, root: str) -> None:
        """Push MIRRORED from the root's images, drop the pushed names from the root, and name the mirror
        in the root's daemon.json."""
        from engine import Engine

        images = Engine(root).images
        hello = images.import_(io.BytesIO(_hello_tar()), None, "hello-world", {"Cmd": ["cat", "/hello.txt"]})
        for ref, source in MIRRORED.items():
            name, _, tag = ref.partition(":")
            remote = f"{self.host}/library/{name}"
            images.tag("busybox:latest" if source == "busybox" else hello, f"{remote}:{tag}")
            images.push(remote, tag)
            images.untag(f"{remote}:{tag}")
        images.remove(hello)
        path = os.path.join(root, "daemon.json")
        doc = {}
        if os.path.exists(path):
            with open(path) as f:
                doc = json.load(f)
        doc["registry-mirrors"] = [f"http://{self.host}"]
        with open(path, "w") as f:
            json.dump(doc, f)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
