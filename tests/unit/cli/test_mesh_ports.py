"""The ports a mesh hands its services: free, never twice, never where outgoing connections take theirs."""

from __future__ import annotations

import socket

import pytest

from segue_cli import mesh


def test_picked_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    picked = [mesh.free_port() for _ in range(50)]
    assert len(set(picked)) == len(picked), "never the same port twice"
    assert all(1024 <= p < mesh._ephemeral_low() for p in picked), "no outgoing connection can take them meanwhile"
    for port in picked[:5]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))  # still free: nothing listens there


def test_a_port_someone_listens_on_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    busy, spare = mesh.free_port(), mesh.free_port()
    mesh._PICKED.difference_update({busy, spare})
    low = max(1024, mesh._ephemeral_low() - 12_000)
    offers = iter([busy - low, spare - low])
    monkeypatch.setattr(mesh.secrets, "randbelow", lambda n: next(offers))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        assert mesh.free_port() == spare
