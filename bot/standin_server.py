"""The Bot API stand-in served over HTTP, so an unmodified PTB Application can long-poll it.

Deliberately minimal HTTP/1.1 on ``asyncio.start_server``. Connections are kept alive between
requests, as api.telegram.org keeps them, so a client's connection pool is used as in
production and a benchmark does not charge each call a new TCP connection; a client that
sends ``Connection: close`` (or an HTTP/1.0 request) gets one request only. Every request
ends up in :meth:`BotApiStandIn.handle_request`, the same code path the in-process
:class:`~bot.standin.StandInRequest` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from bot.standin import BotApiStandIn, UploadedFile
from bot.standin.records import StandInDropped, StandInReset, StandInTimeout

_MAX_BODY: Final = 64 * 1024 * 1024
_HEADER_PARAM: Final = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class HttpError(Exception):
    """A request the HTTP layer itself refuses, before it reaches the Bot API code."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keeps_alive(self) -> bool:
        """HTTP/1.1 keeps the connection unless the client says close; HTTP/1.0 closes it."""
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


class StandInServer:
    """Serves ``POST|GET /bot<token>/<method>`` from a :class:`BotApiStandIn`."""

    def __init__(self, standin: BotApiStandIn) -> None:
        self.standin = standin
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start listening; returns the bound port (useful with ``port=0``)."""
        if self._server is not None:
            raise RuntimeError("the stand-in server is already running")
        self._server = await asyncio.start_server(self._serve, host, port)
        bound_port: int = self._server.sockets[0].getsockname()[1]
        return bound_port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # A long poll may still be waiting; Python 3.11's wait_closed does not wait for it.
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs every connection handler in a task
        self._connections.add(task)
        try:
            keep_alive = True
            while keep_alive and not reader.at_eof():
                status, body, keep_alive = await self._answer(reader)
                writer.write(_http_response(status, body, keep_alive=keep_alive))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away; nothing to answer
        except (StandInDropped, StandInReset, StandInTimeout):
            pass  # a fault or trap: the connection is cut without an answer
        except asyncio.CancelledError:
            # stop() cancels in-flight long polls. Nobody awaits this task, and ending it
            # cancelled would make asyncio log the connection callback as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        """Answer one request: (status, body, whether the connection stays open after it)."""
        try:
            request = await read_request(reader)
            params, files = parse_body(request)
        except HttpError as error:
            # The rest of the stream cannot be trusted after a request that was not understood.
            return error.status, _error_body(error.status, error.description), False
        target = urlsplit(request.target)
        params.update(parse_qsl(target.query, keep_blank_values=True))
        status, body = await self.standin.handle_request(target.path, params, files)
        return status, body, request.keeps_alive


async def read_request(reader: asyncio.StreamReader) -> HttpRequest:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] not in {"GET", "POST"}:
        raise HttpError(400, f"Bad Request: unsupported request line {request_line!r}")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await _read_body(reader, headers)
    return HttpRequest(parts[0], parts[1], parts[2], headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = int(headers.get("content-length", "0") or "0")
    if length > _MAX_BODY:
        raise HttpError(413, "Request Entity Too Large")
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Skip optional trailers up to the blank line that ends the message.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def parse_body(request: HttpRequest) -> tuple[dict[str, object], dict[str, UploadedFile]]:
    """Decode a JSON, form-encoded or multipart body into (parameters, uploaded files)."""
    mime_type, options = split_header(request.headers.get("content-type", ""))
    if not request.body:
        return {}, {}
    if mime_type == "application/json":
        return _parse_json(request.body), {}
    if mime_type == "application/x-www-form-urlencoded":
        text = request.body.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True)), {}
    if mime_type == "multipart/form-data" and "boundary" in options:
        return parse_multipart(request.body, options["boundary"])
    raise HttpError(400, f"Bad Request: unsupported content type {mime_type!r}")


def _parse_json(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise HttpError(400, "Bad Request: can't parse JSON") from exc
    if not isinstance(data, dict):
        raise HttpError(400, "Bad Request: JSON object expected")
    return data


def split_header(value: str) -> tuple[str, dict[str, str]]:
    """Split e.g. ``multipart/form-data; boundary="x"`` into its value and parameters."""
    main, _, rest = value.partition(";")
    options = {}
    for match in _HEADER_PARAM.finditer(";" + rest):
        raw = match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        options[match.group(1).lower()] = raw
    return main.strip().lower(), options


def parse_multipart(
    body: bytes, boundary: str
) -> tuple[dict[str, object], dict[str, UploadedFile]]:
    params: dict[str, object] = {}
    files: dict[str, UploadedFile] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise HttpError(400, "Bad Request: malformed multipart body")
        _add_part(head, content.removesuffix(b"\r\n"), params, files)
    return params, files


def _add_part(
    head: bytes, content: bytes, params: dict[str, object], files: dict[str, UploadedFile]
) -> None:
    headers = {}
    for line in head.decode("utf-8").split("\r\n"):
        header, _, value = line.partition(":")
        headers[header.strip().lower()] = value.strip()
    _, disposition = split_header(headers.get("content-disposition", ""))
    name = disposition.get("name")
    if name is None:
        raise HttpError(400, "Bad Request: multipart part without a name")
    if "filename" in disposition:
        mime_type = headers.get("content-type", "application/octet-stream")
        files[name] = UploadedFile(disposition["filename"], content, mime_type)
    else:
        params[name] = content.decode("utf-8")


def _error_body(status: int, description: str) -> bytes:
    payload = {"ok": False, "error_code": status, "description": description}
    return json.dumps(payload).encode("utf-8")


def _http_response(status: int, body: bytes, *, keep_alive: bool) -> bytes:
    reason = HTTPStatus(status).phrase
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body
