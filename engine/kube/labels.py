"""The labels kube play puts on what it makes, so that kube down finds all of it and nothing else."""

from __future__ import annotations

PREFIX = "io.dockyard.kube."
POD = PREFIX + "pod"  # the pod a container belongs to
CONTAINER = PREFIX + "container"  # the container's name in its pod's spec
DEPLOYMENT = PREFIX + "deployment"  # the Deployment a pod was made for
FILE = PREFIX + "file"  # the manifest's absolute path
SOURCE = PREFIX + "source"  # on a volume: configmap | secret | pvc
OBJECT = PREFIX + "object"  # on a volume: the ConfigMap, Secret or claim it was made from
