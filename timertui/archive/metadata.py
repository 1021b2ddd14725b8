"""The container a checkpoint archive holds, from its config.dump and spec.dump (JSON), as
podman, CRI-O and containerd write them: config.dump's id, name, rootfsImageName, runtime and
checkpointedTime (podman's config has no checkpoint time; the CRIU images' times stand in), and
spec.dump's annotations for the engine and Kubernetes' names (timertui.oci)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from timertui.archive.compression import ArchiveError
from timertui.model import Container
from timertui.oci import annotation_facts

_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


def parse_json(data: bytes, where: str) -> dict[str, Any]:
    """A JSON object, or ArchiveError naming `where`."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ArchiveError(f"{where}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ArchiveError(f"{where}: not a JSON object")
    return value


def container_of(config: dict[str, Any], spec: dict[str, Any]) -> Container:
    annotations = spec.get("annotations")
    facts = annotation_facts(annotations if isinstance(annotations, dict) else {})
    image = _text(config.get("rootfsImageName")) or facts["image"]
    return Container(
        runtime=facts["runtime"] or "unknown",
        id=_text(config.get("id")),
        name=_text(config.get("name")),
        image=image,
        pod=facts["pod"],
        namespace=facts["namespace"],
        pod_uid=facts["pod_uid"],
        k8s_name=facts["k8s_name"],
        oci_runtime=_text(config.get("runtime")),
    )


def checkpoint_time_ns(config: dict[str, Any]) -> int:
    """config.dump's checkpointedTime in ns since the epoch; 0 when absent or Go's zero time."""
    text = config.get("checkpointedTime")
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return 0
    seconds = datetime.fromisoformat(match[1] + match[3].replace("Z", "+00:00")).timestamp()
    if seconds <= 0:
        return 0
    return int(seconds) * 1_000_000_000 + int((match[2] or "0").ljust(9, "0"))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
