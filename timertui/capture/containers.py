"""Which container a live process runs in: its /proc/PID/cgroup path names the container, and the
runtime's on-disk state names the rest, read without asking any daemon.

cgroup paths by runtime (cgroup v2's `0::` line first, then v1's, name=systemd first):

    podman        .../libpod-ID(.scope)          (libpod-conmon-ID.scope is podman's monitor)
    docker        .../docker-ID.scope, /docker/ID
    CRI-O         .../crio-ID(.scope)            (crio-conmon-ID.scope likewise)
    containerd    .../cri-containerd-ID.scope
    Kubernetes    /kubepods[.slice]/...pod<UID>[.slice]/ID  (cgroupfs driver: the runtime unsaid)
    LXC           /lxc.payload.NAME, /lxc/NAME
    machined      /machine.slice/machine-NAME.scope (systemd-nspawn, libvirt; systemd-escaped)

The rest comes from: containers/storage's containers.json (podman, CRI-O: names, image, pod),
the OCI bundle's config.json annotations (Kubernetes' pod, namespace and container names:
CRI-O's io.kubernetes.pod.*, containerd's io.kubernetes.cri.*), found beside the runtime's
storage or through runc's state.json `bundle=` label, and docker's config.v2.json.

Processes of one container share their cgroup file's text, so the answer is cached by that text:
a sweep reads one small /proc file per process and looks the runtime's state up once per
container. The state is read through `Files`: this host's (LocalFiles), or another's through
its agent (timertui.remote.reading).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Protocol

from timertui.model import Container
from timertui.oci import annotation_facts, json_object
from timertui.records import record

_HEX_ID = r"([0-9a-f]{12,64})"
# The last path component that names a container, by runtime; `conmon` scopes are monitors.
_SCOPES = (
    (re.compile(r"libpod-(?!conmon-)" + _HEX_ID + r"(?:\.scope)?"), "podman"),
    (re.compile(r"crio-(?!conmon-)" + _HEX_ID + r"(?:\.scope)?"), "cri-o"),
    (re.compile(r"cri-containerd-" + _HEX_ID + r"(?:\.scope)?"), "containerd"),
    (re.compile(r"docker-" + _HEX_ID + r"\.scope"), "docker"),
)
_BARE_ID = re.compile(r"[0-9a-f]{64}")
_POD_UID = re.compile(r"(?:kubepods-(?:[a-z]+-)?)?pod([0-9a-f_-]{32,36})(?:\.slice)?")
_LXC = re.compile(r"lxc\.payload[./](.+)")
_MACHINE = re.compile(r"machine-(.+)\.scope")
_ESCAPE = re.compile(r"\\x([0-9a-f]{2})")
_CACHE_LIMIT = 4096
_JSON_LIMIT = 16 << 20  # a containers.json or config.json larger than this is not read


@record
class Roots:
    """Where runtimes keep their state (tests point these into a temp directory)."""

    storage: tuple[str, ...] = ("/var/lib/containers/storage", "/run/containers/storage")
    runc_state: tuple[str, ...] = (
        "/run/runc",
        "/run/crun",
        "/run/containerd/runc/k8s.io",
        "/run/docker/runtime-runc/moby",
    )
    containerd_tasks: str = "/run/containerd/io.containerd.runtime.v2.task"
    docker: str = "/var/lib/docker/containers"


DEFAULT_ROOTS = Roots()


class Files(Protocol):
    """The reads the runtime state takes; a file or folder that cannot be read is missing."""

    def listdir(self, path: str) -> list[str]:
        """The names in folder `path`, sorted; [] when it cannot be listed."""
        ...

    def stamp(self, path: str) -> tuple[int, int] | None:
        """(mtime ns, size) of file `path`, None when missing."""
        ...

    def read(self, path: str, limit: int) -> bytes | None:
        """File `path`'s bytes, None when missing, unreadable or longer than `limit`."""
        ...


class LocalFiles:
    """This host's files."""

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))  # noqa: PTH208
        except OSError:
            return []

    def stamp(self, path: str) -> tuple[int, int] | None:
        try:
            info = os.stat(path)  # noqa: PTH116
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def read(self, path: str, limit: int) -> bytes | None:
        try:
            with open(path, "rb") as f:  # noqa: PTH123
                data = f.read(limit + 1)
        except OSError:
            return None
        return data if len(data) <= limit else None


class ContainerNames:
    """The container of a cgroup text, looked up once per distinct text (bounded), with the
    runtime state under `roots` read through `files`."""

    def __init__(self, roots: Roots = DEFAULT_ROOTS, files: Files | None = None) -> None:
        self.roots = roots
        self.files = files or LocalFiles()
        self._by_cgroup: dict[bytes, Container | None] = {}
        self._stores: dict[str, tuple[tuple[int, int], dict[str, dict[str, Any]]]] = {}

    def of_cgroup(self, text: bytes) -> Container | None:
        try:
            return self._by_cgroup[text]
        except KeyError:
            pass
        found = parse_cgroup(text)
        if found is not None:
            found = self._described(found)
        if len(self._by_cgroup) >= _CACHE_LIMIT:
            self._by_cgroup.clear()
        self._by_cgroup[text] = found
        return found

    def _described(self, bare: Container) -> Container:
        """`bare` (runtime, id, pod uid from the path) with what the runtime's state says."""
        if bare.runtime in ("lxc", "machined"):
            return bare
        if bare.runtime == "docker":
            config = self._json(f"{self.roots.docker}/{bare.id}/config.v2.json")
            found = [_docker_facts(config)]
        else:
            found = [
                self._storage_facts(bare.id),
                annotation_facts(self._bundle_annotations(bare.id)),
            ]
        facts = {k: v for each in found for k, v in each.items() if v}
        runtime = facts.pop("runtime", "")
        return Container(
            runtime=runtime if runtime and bare.runtime == "kubernetes" else bare.runtime,
            id=bare.id,
            name=facts.get("name", ""),
            image=facts.get("image", ""),
            pod=facts.get("pod", ""),
            namespace=facts.get("namespace", ""),
            pod_uid=facts.get("pod_uid", bare.pod_uid),
            k8s_name=facts.get("k8s_name", ""),
        )

    def _storage_facts(self, cid: str) -> dict[str, str]:
        """Name, image and pod from containers/storage's containers.json (podman, CRI-O)."""
        for root in self.roots.storage:
            for store in self._store_files(root):
                entry = self._store(store).get(cid)
                if entry is None:
                    continue
                names = entry.get("names")
                meta = json_object(entry.get("metadata"))
                name = names[0] if isinstance(names, list) and names else meta.get("name")
                return {
                    "name": _text(name),
                    "image": _text(meta.get("image-name")),
                    "pod": _text(meta.get("pod-name")),
                }
        return {}

    def _store(self, path: str) -> dict[str, dict[str, Any]]:
        """containers.json by id, parsed again only when the file changed."""
        stamp = self.files.stamp(path)
        if stamp is None:
            return {}
        cached = self._stores.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        entries = self._json(path)
        by_id = {
            e["id"]: e
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("id"), str)
        }
        self._stores[path] = (stamp, by_id)
        return by_id

    def _bundle_annotations(self, cid: str) -> dict[str, Any]:
        """The OCI bundle config.json's annotations: from runc's state, or where runtimes keep
        bundles."""
        candidates = []
        for state_dir in self.roots.runc_state:
            state = self._json(f"{state_dir}/{cid}/state.json")
            config = state.get("config") if isinstance(state, dict) else None
            labels = config.get("labels") if isinstance(config, dict) else None
            for label in labels if isinstance(labels, list) else []:
                if isinstance(label, str) and label.startswith("bundle="):
                    candidates.append(f"{label[len('bundle=') :]}/config.json")
        for root in self.roots.storage:
            candidates += [
                f"{store.rsplit('/', 1)[0]}/{cid}/userdata/config.json"
                for store in self._store_files(root)
            ]
        tasks = self.roots.containerd_tasks
        candidates += [f"{tasks}/{ns}/{cid}/config.json" for ns in self.files.listdir(tasks)]
        for path in candidates:
            spec = self._json(path)
            annotations = spec.get("annotations") if isinstance(spec, dict) else None
            if isinstance(annotations, dict):
                return annotations
        return {}

    def _store_files(self, root: str) -> list[str]:
        """containers/storage keeps one containers.json per graph driver: overlay-containers/..."""
        names = self.files.listdir(root)
        return [f"{root}/{n}/containers.json" for n in names if n.endswith("-containers")]

    def _json(self, path: str) -> Any:
        """A JSON file's value, None when it is missing, unreadable, huge or not JSON."""
        data = self.files.read(path, _JSON_LIMIT)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            return None


def parse_cgroup(text: bytes) -> Container | None:
    """The container (runtime, id, pod UID) a /proc/PID/cgroup text names, None for none."""
    lines = text.decode("utf-8", "replace").splitlines()
    # v2 first, then the v1 hierarchy systemd keeps, then the rest in order.
    lines.sort(key=lambda line: (not line.startswith("0::"), "name=systemd" not in line))
    for line in lines:
        path = line.split(":", 2)[-1]
        found = _parse_path(path)
        if found is not None:
            return found
    return None


def _parse_path(path: str) -> Container | None:
    parts = [p for p in path.split("/") if p]
    pod_uid = ""
    for part in parts:
        match = _POD_UID.fullmatch(part)
        if match and ("kubepods" in path):
            pod_uid = match[1].replace("_", "-")
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        for pattern, runtime in _SCOPES:
            match = pattern.fullmatch(part)
            if match:
                return Container(runtime, match[1], pod_uid=pod_uid)
        if _BARE_ID.fullmatch(part):
            parent = parts[index - 1] if index else ""
            if parent == "docker":
                return Container("docker", part)
            if pod_uid:
                return Container("kubernetes", part, pod_uid=pod_uid)
        match = _LXC.fullmatch(part) if part.startswith("lxc.payload") else None
        if match:
            return Container("lxc", match[1], name=match[1])
        if index and parts[index - 1] == "lxc":
            return Container("lxc", part, name=part)
        match = _MACHINE.fullmatch(part)
        if match and "machine.slice" in parts[:index]:
            name = _ESCAPE.sub(lambda m: chr(int(m[1], 16)), match[1])
            return Container("machined", name, name=name)
    return None


def parse_nspid(status: bytes) -> int | None:
    """The pid in the innermost pid namespace from a /proc/PID/status text (its NSpid line's
    last value), None without one."""
    start = status.find(b"\nNSpid:")
    if start < 0:
        return None
    end = status.find(b"\n", start + 1)
    values = status[start + 7 : end if end >= 0 else None].split()
    return int(values[-1]) if values and values[-1].isdigit() else None


def _docker_facts(config: Any) -> dict[str, str]:
    if not isinstance(config, dict):
        return {}
    inner = config.get("Config")
    image = inner.get("Image") if isinstance(inner, dict) else None
    return {"name": _text(config.get("Name")).lstrip("/"), "image": _text(image)}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
