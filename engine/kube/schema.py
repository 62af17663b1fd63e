"""A manifest checked offline against the Kubernetes OpenAPI models that the ``kubernetes`` client ships:
every key must be a field of its object's model, every value of the field's type."""

from __future__ import annotations

from ..errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: the model of each top-level kind that kube play and generate know
KINDS = {
    ("v1", "Pod"): "V1Pod",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("v1", "Service"): "V1Service",
}

_PRIMITIVES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "date": (str,),
    "bytes": (str,),
    "datetime": (str,),
    "object": (object,),
    "quantity": (str, int, float),
}


def _model(name: str) -> Any:
    """The client's model class ``name`` (``V1PodSpec``), importing its module alone."""
    import importlib
    import re

    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    try:
        module = importlib.import_module(f"kubernetes.client.models.{snake}")
        return getattr(module, name)
    except (ImportError, AttributeError):
        return getattr(importlib.import_module("kubernetes.client.models"), name)


def _check(value: Any, kind: str, where: str, errors: list[str]) -> None:
    if value is None:
        return
    if kind.lower().startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(item, kind[5:-1], f"{where}[{i}]", errors)
        return
    if kind.lower().startswith("dict["):
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a mapping, got {type(value).__name__}")
            return
        inner = kind[5:-1].split(",", 1)[1].strip()
        if where.endswith((".limits", ".requests", ".capacity")) and inner == "str":
            inner = "quantity"  # a Quantity: a string or a number
        for k, v in value.items():
            _check(v, inner, f"{where}.{k}", errors)
        return
    if kind in _PRIMITIVES:
        ok = isinstance(value, _PRIMITIVES[kind]) and not (kind == "int" and isinstance(value, bool))
        if not ok:
            errors.append(f"{where}: expected {kind}, got {type(value).__name__} {value!r}")
        return
    if not isinstance(value, dict):
        errors.append(f"{where}: expected an object ({kind}), got {type(value).__name__}")
        return
    model = _model(kind)
    by_key = {json_key: model.openapi_types[attr] for attr, json_key in model.attribute_map.items()}
    for key, v in value.items():
        if key not in by_key:
            errors.append(f"{where}.{key}: unknown field")
            continue
        _check(v, by_key[key], f"{where}.{key}", errors)


def validate(doc: Any, file: str, index: int) -> None:
    """Raise InvalidArgument naming the file, the document (``index`` from 1) and each key that the
    Kubernetes schema does not have or whose value has the wrong type."""
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{file}: document {index}: not a Kubernetes object")
    api, kind = doc.get("apiVersion"), doc.get("kind")
    model = KINDS.get((str(api), str(kind)))
    if model is None:
        raise InvalidArgument(
            f"{file}: document {index}: apiVersion {api} kind {kind} is not supported "
            f"(Pod, Deployment, ConfigMap, Secret, PersistentVolumeClaim and Service are)"
        )
    errors: list[str] = []
    _check(doc, model, str(kind), errors)
    if errors:
        name = (doc.get("metadata") or {}).get("name", "")
        raise InvalidArgument(f"{file}: document {index} ({kind} {name}): " + "; ".join(errors))
