"""The project the compose command tests run: a web service built from a Dockerfile, a worker, and a
database stand-in writing to a named volume with a healthcheck, all on one internal network; web waits
for the database to be healthy."""

from __future__ import annotations

import os

COMPOSE = """\
services:
  web:
    build: ./web
    depends_on:
      db:
        condition: service_healthy
    networks: [back]
  worker:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; echo working $$HOSTNAME; while true; do sleep 0.1; done"]
    depends_on: [db]
    networks: [back]
  db:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 0.5; echo ready > /data/ready; echo db up; while true; do sleep 0.1; done"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 200ms
      retries: 20
    networks: [back]
networks:
  back:
    internal: true
volumes:
  data:
"""

DOCKERFILE = """\
FROM busybox
RUN echo built by compose > /built
CMD ["sh", "-c", "cat /built; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
"""


def write_project(directory: str, compose: str = COMPOSE) -> str:
    """The project's files under ``directory``; returns the compose file's path."""
    os.makedirs(os.path.join(directory, "web"), exist_ok=True)
    with open(os.path.join(directory, "web", "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    path = os.path.join(directory, "compose.yaml")
    with open(path, "w") as f:
        f.write(compose)
    return path
