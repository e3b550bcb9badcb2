"""A tornado HTTP server on HOST:PORT, on the bot's own event loop (health, webhook)."""

from __future__ import annotations

import socket

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets


class Listener:
    """Binds when started (port 0: any free one), and closes every connection when stopped."""

    def __init__(self, server: HTTPServer, host: str, port: int) -> None:
        self._server, self._host, self._port = server, host, port

    async def start(self) -> int:
        """Listen; returns the port (useful when 0 asked for any free one)."""
        sockets = bind_sockets(self._port, self._host, family=socket.AF_UNSPEC)
        self._server.add_sockets(sockets)
        port: int = sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
