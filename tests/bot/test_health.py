"""/healthz, /readyz and /metrics, scraped over HTTP while the real application works."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import PledgeApplication, sender_of
from bot.health import Health, HealthServer
from bot.metrics import metrics_of
from bot.services import Services
from bot.standin import BotApiStandIn
from storage.engine import create_engine, session_factory
from tests.conftest import Invitations
from tests.conversations.helpers import join, walk_to


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
async def health_url(app: PledgeApplication, services: Services) -> AsyncIterator[str]:
    server = HealthServer(Health(services, app.bot, metrics_of(app)), "127.0.0.1", 0)
    port = await server.start()
    yield f"http://127.0.0.1:{port}"
    await server.stop()


async def test_alive_and_ready_when_database_and_telegram_answer(health_url: str) -> None:
    async with httpx.AsyncClient(base_url=health_url) as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": "ok", "telegram": "ok"}


async def test_not_ready_when_the_bot_api_fails(health_url: str, standin: BotApiStandIn) -> None:
    standin.fail("getMe", "502")
    async with httpx.AsyncClient(base_url=health_url) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["telegram"].startswith("unreachable")
    assert ready.json()["database"] == "ok"


async def test_not_ready_on_a_database_behind_the_code(
    app: PledgeApplication, services: Services, tmp_path: object
) -> None:
    empty = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.sqlite3")
    behind = Services(
        settings=services.settings, sessions=session_factory(empty), catalogs=services.catalogs
    )
    server = HealthServer(Health(behind, app.bot, metrics_of(app)), "127.0.0.1", 0)
    port = await server.start()
    try:
        async with httpx.AsyncClient() as client:
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
    finally:
        await server.stop()
        await empty.dispose()
    assert ready.status_code == 503
    assert ready.json()["database"].startswith("migrations not current: database at None")


async def test_metrics_count_what_happened(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    health_url: str,
) -> None:
    official = await join(standin, app, invitations, user_id=31)
    await walk_to(official, "description")  # /pledge, forum, compacts, title
    blocked = await join(standin, app, invitations, user_id=32)
    standin.block(32)
    await blocked.send("/help")  # answered with a 403: the person blocked the bot
    await sender_of(app).tick()

    async with httpx.AsyncClient(base_url=health_url) as client:
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    samples = _samples(scraped.text)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("pledgebot_updates_total", kind="command") == 4  # 2 × /start, /pledge, /help
    assert value("pledgebot_updates_total", kind="button") == 2  # forum, compacts
    assert value("pledgebot_updates_total", kind="message") == 1  # the title
    assert value("pledgebot_update_handling_seconds_count", kind="command") == 4
    messages = sum(1 for method, _params in standin.calls if method == "sendMessage")
    assert value("pledgebot_bot_api_calls_total", method="sendMessage", result="403") == 1
    assert value("pledgebot_bot_api_calls_total", method="sendMessage", result="ok") == (
        messages - 1
    )
    assert value("pledgebot_conversations_in_progress") == 1  # the official, at the description
    assert value("pledgebot_deliveries", kind="notice", status="pending") == 0
    assert value("pledgebot_people_with_updates_in_hand") == 0
