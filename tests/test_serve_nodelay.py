"""``matcher serve --workers N``: connections to the workers get TCP_NODELAY.

uvicorn binds the multi-worker listening socket with ``proto`` 0, so asyncio leaves Nagle's
algorithm on and each keep-alive request waits for a delayed ACK (about 40 ms on Linux).
:func:`matcher.api.serve.tcp_listener_fix` labels the socket as TCP; these tests check what
asyncio then does with a connection accepted on it.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from uvicorn.config import Config

from matcher.api.serve import APP_FACTORY, tcp_listener_fix


def _nodelay_of_accepted(sock: socket.socket) -> int:
    """TCP_NODELAY of the server side of one connection accepted by asyncio on ``sock``."""

    async def run() -> int:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                s = transport.get_extra_info("socket")
                got.set_result(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=sock)
        try:
            _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(got, 10)
            writer.close()
            await writer.wait_closed()
            return value
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


def test_workers_listener_is_labelled_tcp_and_gets_nodelay() -> None:
    config = uvicorn.Config(APP_FACTORY, factory=True, host="127.0.0.1", port=0, workers=2)
    original = Config.bind_socket
    with tcp_listener_fix():
        sock = config.bind_socket()
    assert Config.bind_socket is original  # uvicorn is left as it was
    assert (sock.family, sock.proto) == (socket.AF_INET, socket.IPPROTO_TCP)
    assert sock.get_inheritable()  # the workers must still receive it
    assert _nodelay_of_accepted(sock) != 0


def test_fix_is_restored_after_an_error() -> None:
    original = Config.bind_socket
    try:
        with tcp_listener_fix():
            assert Config.bind_socket is not original
            raise RuntimeError("uvicorn failed")
    except RuntimeError:
        pass
    assert Config.bind_socket is original
