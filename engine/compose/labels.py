"""The labels Docker Compose puts on what it makes, and the names it gives: a project's containers,
networks and volumes are found again by these labels alone."""

from __future__ import annotations

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
CONFIG_HASH = "com.docker.compose.config-hash"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
ENVIRONMENT_FILE = "com.docker.compose.project.environment_file"
ONEOFF = "com.docker.compose.oneoff"
VERSION = "com.docker.compose.version"
IMAGE = "com.docker.compose.image"
DEPENDS_ON = "com.docker.compose.depends_on"
NETWORK = "com.docker.compose.network"
VOLUME = "com.docker.compose.volume"

#: The Docker Compose version whose behaviour and labels dockyard follows.
COMPOSE_VERSION = "2.29.7"


def container_name(project: str, service: str, number: int) -> str:
    """Compose's container name: ``PROJECT-SERVICE-N``."""
    return f"{project}-{service}-{number}"


def scoped_name(project: str, key: str) -> str:
    """A network's or a volume's name when the file gives none: ``PROJECT_KEY``."""
    return f"{project}_{key}"


def project_filter(project: str) -> dict[str, list[str]]:
    return {"label": [f"{PROJECT}={project}"]}
