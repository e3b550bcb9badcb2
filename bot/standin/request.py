"""The PTB request backend that answers from a stand-in instead of the network."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.standin.records import StandInDropped, StandInReset, StandInTimeout, UploadedFile

if TYPE_CHECKING:
    from bot.standin.api import BotApiStandIn


def _uploads(request_data: RequestData | None) -> dict[str, UploadedFile]:
    if request_data is None:
        return {}
    uploads: dict[str, UploadedFile] = {}
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        uploads[name] = UploadedFile(file_name, data, mime_type)
    return uploads


class StandInRequest(BaseRequest):
    """A PTB request backend that answers from a :class:`BotApiStandIn` without any network."""

    __slots__ = ("_standin",)

    def __init__(self, standin: BotApiStandIn) -> None:
        self._standin = standin

    @property
    def read_timeout(self) -> float | None:
        # Answers are immediate; long polls are capped by BotApiStandIn.max_poll_wait instead.
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # Timeouts are accepted and ignored: nothing here can hang on a network.
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        params = request_data.parameters if request_data is not None else {}
        path = urlsplit(url).path
        try:
            return await self._standin.handle_request(path, params, _uploads(request_data))
        except StandInTimeout as lost:
            raise TimedOut(f"no answer to {lost}") from None
        except StandInDropped as dropped:
            raise NetworkError(f"connection dropped before {dropped}") from httpx.ConnectError(
                "connection dropped"
            )
        except StandInReset as reset:
            # As PTB's own HTTPXRequest raises it when the server hangs up before answering.
            raise NetworkError(f"connection broke after {reset}") from httpx.RemoteProtocolError(
                "Server disconnected without sending a response."
            )
