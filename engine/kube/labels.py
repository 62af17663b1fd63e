"""The labels kube play puts on what it makes, so that kube down finds all of it and nothing else."""

from __future__ import annotations

PREFIX = "io.dockyard.kube."
POD = PREFIX + "pod"  # the pod a container belongs to
CONTAINER = PREFIX + "container"  # the container's name in its pod's spec
DEPLOYMENT = PREFIX + "deployment"  # the Deployment a pod was made for
FILE = PREFIX + "file"  # the manifest's absolute path
SOURCE = PREFIX + "source"  # on a volume: configmap | secret | pvc
OBJECT = PREFIX + "object"  # on a volume: the ConfigMap, Secret or claim it was made from
INFRA = PREFIX + "infra"  # on a pod's infra container, which holds its network, UTS and IPC namespaces
PORTS = PREFIX + "ports"  # on a container: its spec's ports (JSON), which its pod's infra publishes
