"""Counting every Bot API call by method and result, whichever transport makes it."""

from __future__ import annotations

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.metrics import Metrics


def call_result(status: int) -> str:
    """The label of an HTTP answer: ok, the Bot API's error codes as such, 5xx for the rest."""
    if 200 <= status < 300:
        return "ok"
    if status >= 500:
        return "5xx"
    return str(status)


class WrappedRequest(BaseRequest):
    """A request backend around another (HTTPX to Telegram, or the stand-in): everything is
    the inner one's; a subclass changes `do_request` only."""

    __slots__ = ("_inner",)

    def __init__(self, inner: BaseRequest) -> None:
        self._inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        return await self._inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,  # type: ignore[arg-type]
            write_timeout=write_timeout,  # type: ignore[arg-type]
            connect_timeout=connect_timeout,  # type: ignore[arg-type]
            pool_timeout=pool_timeout,  # type: ignore[arg-type]
        )


class MeteredRequest(WrappedRequest):
    """Counts every call of the request backend it wraps.

    Counted below PTB's error mapping, where the HTTP status is still a number: 403 (blocked)
    and 429 (flood control) are told apart from 400 without reading error texts."""

    __slots__ = ("_metrics",)

    def __init__(self, inner: BaseRequest, metrics: Metrics) -> None:
        super().__init__(inner)
        self._metrics = metrics

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1] or "?"
        try:
            status, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        except TimedOut:
            self._metrics.bot_api_calls.labels(api_method, "timeout").inc()
            raise
        except Exception:
            self._metrics.bot_api_calls.labels(api_method, "network").inc()
            raise
        self._metrics.bot_api_calls.labels(api_method, call_result(status)).inc()
        return status, payload
