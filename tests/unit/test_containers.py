"""Containers of live processes from recorded /proc/PID/cgroup and status texts of every runtime
kind (cgroup v1, v2 and hybrid), and the runtime's on-disk state laid out in a temp directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from timertui.capture.containers import ContainerNames, Roots, parse_cgroup, parse_nspid
from timertui.model import Container

CID = "eac6d096f60a2e700bb1c7db7ad10548a767534612fb476e3411b8393d021824"
UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
UID_ = UID.replace("-", "_")

# Recorded on hosts of each kind (ids made equal to keep the table short).
HYBRID_PODMAN = (
    f"9:name=systemd:/libpod_parent/libpod-{CID}\n4:memory:/libpod_parent/libpod-{CID}\n"
    f"0::/libpod_parent/libpod-{CID}\n"
)
V2_PODMAN_SYSTEMD = f"0::/machine.slice/libpod-{CID}.scope/container\n"
V2_CONMON = f"0::/machine.slice/libpod-conmon-{CID}.scope\n"
V1_DOCKER = f"12:pids:/docker/{CID}\n1:name=systemd:/docker/{CID}\n0::/\n"
V2_DOCKER = f"0::/system.slice/docker-{CID}.scope\n"
V2_CRIO = (
    f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/"
    f"crio-{CID}.scope\n"
)
V2_CONTAINERD = (
    f"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/"
    f"cri-containerd-{CID}.scope\n"
)
V1_KUBEPODS_CGROUPFS = f"11:memory:/kubepods/burstable/pod{UID}/{CID}\n0::/\n"
V2_KUBEPODS_GUARANTEED = f"0::/kubepods.slice/kubepods-pod{UID_}.slice/crio-{CID}.scope\n"
V2_LXC = "0::/lxc.payload.web1\n"
V1_LXC = "4:memory:/lxc/web1\n"
V2_MACHINED = "0::/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope\n"
HOST_SESSION = "0::/user.slice/user-0.slice/session-3.scope\n"
HOST_SERVICE = "9:name=systemd:/system.slice/nginx.service\n0::/system.slice/nginx.service\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HYBRID_PODMAN, Container("podman", CID)),
        (V2_PODMAN_SYSTEMD, Container("podman", CID)),
        (V1_DOCKER, Container("docker", CID)),
        (V2_DOCKER, Container("docker", CID)),
        (V2_CRIO, Container("cri-o", CID, pod_uid=UID)),
        (V2_CONTAINERD, Container("containerd", CID, pod_uid=UID)),
        (V1_KUBEPODS_CGROUPFS, Container("kubernetes", CID, pod_uid=UID)),
        (V2_KUBEPODS_GUARANTEED, Container("cri-o", CID, pod_uid=UID)),
        (V2_LXC, Container("lxc", "web1", name="web1")),
        (V1_LXC, Container("lxc", "web1", name="web1")),
        (V2_MACHINED, Container("machined", "qemu-1-vm1", name="qemu-1-vm1")),
        (V2_CONMON, None),
        (HOST_SESSION, None),
        (HOST_SERVICE, None),
        ("0::/\n", None),
        ("", None),
    ],
)
def test_cgroup_paths_of_every_runtime(text: str, expected: Container | None) -> None:
    assert parse_cgroup(text.encode()) == expected


def test_nspid_is_the_innermost_pid() -> None:
    status = b"Name:\ttimers\nTgid:\t9715\nPid:\t9715\nNSpid:\t9715\t1\nNSpgid:\t9715\t1\n"
    assert parse_nspid(status) == 1
    assert parse_nspid(b"Name:\tbash\nNSpid:\t42\n") == 42
    assert parse_nspid(b"Name:\told kernel\n") is None


def _roots(tmp_path: Path) -> Roots:
    return Roots(
        storage=(str(tmp_path / "storage"), str(tmp_path / "run-storage")),
        runc_state=(str(tmp_path / "runc"),),
        containerd_tasks=str(tmp_path / "tasks"),
        docker=str(tmp_path / "docker"),
    )


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def test_podman_names_from_the_container_store(tmp_path: Path) -> None:
    meta = {"image-name": "localhost/timers:1", "name": "timers-ct"}
    store = tmp_path / "storage/overlay-containers/containers.json"
    _write_json(store, [{"id": CID, "names": ["timers-ct"], "metadata": json.dumps(meta)}])
    found = ContainerNames(_roots(tmp_path)).of_cgroup(HYBRID_PODMAN.encode())
    assert found == Container("podman", CID, name="timers-ct", image="localhost/timers:1")
    assert found is not None and found.label == "timers-ct" and found.short_id == CID[:12]


def test_crio_pod_from_the_bundle_annotations(tmp_path: Path) -> None:
    meta = {"image-name": "quay.io/x/counter:1", "pod-name": "counters", "name": "k8s_counter"}
    _write_json(
        tmp_path / "storage/overlay-containers/containers.json",
        [{"id": CID, "names": ["k8s_counter_counters_default_x_0"], "metadata": json.dumps(meta)}],
    )
    _write_json(
        tmp_path / f"run-storage/overlay-containers/{CID}/userdata/config.json",
        {
            "annotations": {
                "io.container.manager": "cri-o",
                "io.kubernetes.cri-o.Metadata": json.dumps({"name": "counter"}),
                "io.kubernetes.pod.name": "counters",
                "io.kubernetes.pod.namespace": "default",
                "io.kubernetes.pod.uid": UID,
            }
        },
    )
    _write_json(tmp_path / "run-storage/overlay-containers/containers.json", [])
    found = ContainerNames(_roots(tmp_path)).of_cgroup(V2_CRIO.encode())
    assert found == Container(
        "cri-o",
        CID,
        name="k8s_counter_counters_default_x_0",
        image="quay.io/x/counter:1",
        pod="counters",
        namespace="default",
        pod_uid=UID,
        k8s_name="counter",
    )
    assert found.label == "counters/counter"


def test_containerd_names_from_its_task_bundle(tmp_path: Path) -> None:
    _write_json(
        tmp_path / f"tasks/k8s.io/{CID}/config.json",
        {
            "annotations": {
                "io.kubernetes.cri.container-name": "counter",
                "io.kubernetes.cri.sandbox-name": "counters",
                "io.kubernetes.cri.sandbox-namespace": "prod",
                "io.kubernetes.cri.image-name": "registry.k8s.io/counter:2",
            }
        },
    )
    found = ContainerNames(_roots(tmp_path)).of_cgroup(V1_KUBEPODS_CGROUPFS.encode())
    assert found == Container(
        "containerd",
        CID,
        image="registry.k8s.io/counter:2",
        pod="counters",
        namespace="prod",
        pod_uid=UID,
        k8s_name="counter",
    )


def test_runc_state_leads_to_the_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "somewhere/bundle"
    _write_json(bundle / "config.json", {"annotations": {"io.kubernetes.pod.name": "p"}})
    _write_json(tmp_path / f"runc/{CID}/state.json", {"config": {"labels": [f"bundle={bundle}"]}})
    found = ContainerNames(_roots(tmp_path)).of_cgroup(V2_PODMAN_SYSTEMD.encode())
    assert found is not None and found.pod == "p"


def test_docker_names_from_its_config(tmp_path: Path) -> None:
    _write_json(
        tmp_path / f"docker/{CID}/config.v2.json", {"Name": "/web", "Config": {"Image": "nginx"}}
    )
    found = ContainerNames(_roots(tmp_path)).of_cgroup(V2_DOCKER.encode())
    assert found == Container("docker", CID, name="web", image="nginx")


def test_broken_runtime_state_still_names_the_container(tmp_path: Path) -> None:
    store = tmp_path / "storage/overlay-containers/containers.json"
    store.parent.mkdir(parents=True)
    store.write_text("{not json")
    _write_json(tmp_path / f"runc/{CID}/state.json", {"config": {"labels": "bundle=/x"}})
    found = ContainerNames(_roots(tmp_path)).of_cgroup(HYBRID_PODMAN.encode())
    assert found == Container("podman", CID)


def test_one_lookup_per_cgroup_text(tmp_path: Path) -> None:
    """The sweep's cost: a second process of the same container reads no runtime state, and a
    changed containers.json is read again for a new container."""
    store = tmp_path / "storage/overlay-containers/containers.json"
    _write_json(store, [{"id": CID, "names": ["a"]}])
    names = ContainerNames(_roots(tmp_path))
    first = names.of_cgroup(HYBRID_PODMAN.encode())
    store.unlink()
    assert names.of_cgroup(HYBRID_PODMAN.encode()) is first
    other = CID[::-1]
    _write_json(store, [{"id": other, "names": ["b"]}])
    found = names.of_cgroup(f"0::/machine.slice/libpod-{other}.scope\n".encode())
    assert found is not None and found.name == "b"
