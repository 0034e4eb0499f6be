"""The test harness's free ports: two asked for in a row are never the same port."""

from __future__ import annotations

import socket

from tools import harness


def test_given_the_kernel_offering_the_same_port_twice_when_two_are_asked_then_they_differ(monkeypatch):
    offered = iter([50001, 50001, 50002])

    class Probe(socket.socket):
        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", next(offered))

    monkeypatch.setattr(socket, "socket", Probe)
    monkeypatch.setattr(harness, "_HANDED_OUT", set())

    assert (harness.free_port(), harness.free_port()) == (50001, 50002)
