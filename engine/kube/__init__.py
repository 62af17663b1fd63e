"""Kubernetes manifests: ``kube generate`` (containers to a Pod or Deployment YAML) and ``kube play`` (Pods,
Deployments, ConfigMaps, Secrets and PersistentVolumeClaims run through the public API); docs/KUBE.md."""
