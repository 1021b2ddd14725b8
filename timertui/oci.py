"""What an OCI runtime spec's annotations say about a container: the engine that made it and
Kubernetes' names, by CRI-O's keys (io.kubernetes.pod.*, io.kubernetes.cri-o.*) and containerd's
(io.kubernetes.cri.*). Used for live containers' bundles and checkpoint archives' spec.dump alike.
Pure: the caller reads the JSON."""

from __future__ import annotations

import json
from typing import Any

ENGINES = {"libpod": "podman", "cri-o": "cri-o"}


def annotation_facts(annotations: dict[str, Any]) -> dict[str, str]:
    """runtime (the engine, "" when the annotations do not say), k8s_name, pod, namespace,
    pod_uid and image; "" for what they do not hold."""

    def get(*keys: str) -> str:
        return next((v for k in keys if isinstance(v := annotations.get(k), str) and v), "")

    runtime = ENGINES.get(get("io.container.manager"), "")
    if "io.kubernetes.cri-o.Metadata" in annotations:
        runtime = "cri-o"
    elif "io.kubernetes.cri.container-name" in annotations:
        runtime = "containerd"
    crio_name = json_object(annotations.get("io.kubernetes.cri-o.Metadata")).get("name")
    return {
        "runtime": runtime,
        "k8s_name": get("io.kubernetes.cri.container-name", "io.kubernetes.container.name")
        or (crio_name if isinstance(crio_name, str) else ""),
        "pod": get("io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"),
        "namespace": get("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"),
        "pod_uid": get("io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"),
        "image": get("io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"),
    }


def json_object(value: Any) -> dict[str, Any]:
    """A JSON object held in a string (containers.json's metadata, CRI-O's Metadata annotation);
    {} for anything else."""
    if not isinstance(value, str):
        return {}
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
