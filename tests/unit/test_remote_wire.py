"""The agent's stdlib msgpack (timertui/remote/agent/wire.py) against the msgpack library the
timertui side speaks, both ways; damaged bytes are refused as WireError only; host strings."""

from __future__ import annotations

import contextlib
import hashlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timertui.remote.agent import wire
from timertui.remote.ssh import RemoteError, Target, agent_zip, parse_target

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner) | st.dictionaries(st.text() | st.integers(-5, 5), inner),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_agent_encoding_is_msgpacks(value: object) -> None:
    ours = wire.packb(value)
    assert msgpack.unpackb(ours, strict_map_key=False, raw=False) == value
    assert ours == msgpack.packb(value, use_bin_type=True)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_agent_decodes_what_msgpack_writes(value: object) -> None:
    assert wire.unpackb(msgpack.packb(value, use_bin_type=True)) == value


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=64))
def test_garbage_is_a_wire_error_or_a_value(data: bytes) -> None:
    with contextlib.suppress(wire.WireError):
        wire.unpackb(data)


def test_cut_and_huge_claims_are_refused() -> None:
    whole = wire.packb({"op": "scan", "rows": list(range(100))})
    for end in range(len(whole)):
        with pytest.raises(wire.WireError):
            wire.unpackb(whole[:end])
    with pytest.raises(wire.WireError, match="longer than the bytes left"):
        wire.unpackb(b"\xdd\xff\xff\xff\xff")
    with pytest.raises(wire.WireError, match="beyond 64 bits"):
        wire.packb(2**64)
    with pytest.raises(wire.WireError, match="cannot send"):
        wire.packb({1, 2})


def test_agent_zip_is_the_same_for_the_same_sources() -> None:
    assert hashlib.sha256(agent_zip()).digest() == hashlib.sha256(agent_zip()).digest()


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("host", Target("host")),
        ("alias-from-ssh-config", Target("alias-from-ssh-config")),
        ("root@10.0.0.2", Target("10.0.0.2", "root")),
        ("ops@db.example.com:2222", Target("db.example.com", "ops", 2222)),
        ("[::1]:22", Target("::1", "", 22)),
    ],
)
def test_host_strings(text: str, target: Target) -> None:
    assert parse_target(text) == target
    assert parse_target(target.label) == target


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a b",
        "-oProxyCommand=x",
        "a@b@c",
        "host:0",
        "host:99999",
        "host:",
        "@host",
        "h;ls",
        "a\nb",
    ],
)
def test_bad_host_strings(text: str) -> None:
    with pytest.raises(RemoteError, match="bad host"):
        parse_target(text)
