"""`inmet local up|run` (and so `make demo`) never ends on a busy port 8000: without --port the API
takes 8000 when it is free, else a free port, and says which."""

from __future__ import annotations

import socket

import pytest

from inmet_local.cli import options

pytestmark = [pytest.mark.unit]


def _listening() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_busy_default_port_gives_a_free_one_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    with _listening() as busy:
        port = busy.getsockname()[1]
        monkeypatch.setattr(options, "DEFAULT_PORT", port)
        chosen = options.choose_port(None, said.append)
    assert chosen != port
    assert said == [
        f"port {port} is busy: the upload API uses port {chosen} (or choose with --port)"
    ]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", chosen))  # it was free


def test_a_free_default_port_is_taken_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    with _listening() as sock:
        port = sock.getsockname()[1]
    monkeypatch.setattr(options, "DEFAULT_PORT", port)  # closed again: free
    said: list[str] = []
    assert options.choose_port(None, said.append) == port
    assert said == []


def test_an_explicit_port_is_kept_even_when_busy() -> None:
    # The stack then refuses it with "port N on 127.0.0.1 is in use; … choose another with --port".
    with _listening() as busy:
        port = busy.getsockname()[1]
        assert options.choose_port(port, print) == port
