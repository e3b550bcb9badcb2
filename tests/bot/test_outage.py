"""The database goes away in the middle of conversations, and comes back: nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from telegram import Update

from bot.app import PledgeApplication, register_default_commands
from bot.metrics import metrics_of
from bot.outage import Outage, outage_of, replay_held
from bot.services import Services
from bot.standin import BotApiStandIn, SentMessage, SimUser
from storage.engine import SessionFactory, create_engine, session_factory
from tests.bot.tcp_proxy import TcpProxy
from tests.conftest import Invitations, on_standin, postgres_url
from tests.conversations.helpers import GOOD_DESCRIPTION, join, latest_pledge, state_of, walk_to

UNAVAILABLE = "I cannot reach my database just now"
UNAVAILABLE_FR = "Je ne peux pas joindre ma base de données"
OUTAGE_SECONDS = 20.0  # as long as a PostgreSQL restart with a slow recovery


def _count(messages: list[SentMessage], *words: str) -> int:
    return sum(any(w in message.text for w in words) for message in messages)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if getattr(request, "param", "sqlite") == "postgresql":
        return postgres_url(request)
    return f"sqlite+aiosqlite:///{tmp_path / 'pledgebot.sqlite3'}"


ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
async def proxied_app(
    services: Services, standin: BotApiStandIn, proxy: TcpProxy, database_url: str
) -> AsyncIterator[PledgeApplication]:
    """The bot, reaching PostgreSQL only through the proxy."""
    through = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    engine = create_engine(through.render_as_string(hide_password=False))
    proxied = Services(
        settings=services.settings, sessions=session_factory(engine), catalogs=services.catalogs
    )
    application = on_standin(proxied, standin)
    await application.initialize()
    await register_default_commands(application)
    yield application
    await application.shutdown()
    await engine.dispose()


@ON_POSTGRESQL
async def test_updates_sent_while_postgresql_is_cut_off_are_each_handled_once_after(
    proxied_app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    proxy: TcpProxy,
) -> None:
    people = [await join(standin, proxied_app, invitations, user_id=60 + i) for i in range(3)]
    for person in people:
        await walk_to(person, "title")
    # The second person's phone is in French: with the database away, that is all there is to
    # go by (their chosen language is in the database).
    people[1] = standin.person(proxied_app, user_id=61, first_name="Olga", language_code="fr")
    mark = standin.history_mark()

    await proxy.cut()
    titles = [f"Welcome centre number {i}" for i in range(len(people))]
    sending = [asyncio.create_task(p.send(title)) for p, title in zip(people, titles, strict=True)]
    # The first person goes on typing: the description waits behind the title, in order.
    sending.append(asyncio.create_task(people[0].send(GOOD_DESCRIPTION)))
    await asyncio.sleep(OUTAGE_SECONDS)
    during = {p.chat_id: standin.messages_since(mark, p.chat_id) for p in people}
    await proxy.restore()
    await asyncio.wait_for(asyncio.gather(*sending), timeout=30)

    told = {
        chat: _count(messages, UNAVAILABLE, UNAVAILABLE_FR) for chat, messages in during.items()
    }
    assert told == {60: 1, 61: 1, 62: 1}, during  # once each, though the first sent two
    assert _count(during[61], UNAVAILABLE_FR) == 1  # in the language of the person's phone
    for person, title in zip(people, titles, strict=True):
        after = standin.messages_since(mark, person.chat_id)
        assert _count(after, UNAVAILABLE, UNAVAILABLE_FR) == 1, [m.text for m in after]
        assert "something went wrong" not in " ".join(m.text for m in after)
        draft = await latest_pledge(sessions, person.user_id)
        assert draft.title == title
    first = await latest_pledge(sessions, 60)
    assert first.description == GOOD_DESCRIPTION
    state = await state_of(sessions, 60)
    assert state is not None and state.step == "gcm"  # title, then description, in order
    for person in people[1:]:
        asked = standin.messages_since(mark, person.chat_id)
        assert _count(asked, "Describe the pledge") == 1, [m.text for m in asked]
    errors = metrics_of(proxied_app).registry.get_sample_value(
        "pledgebot_database_errors_total", {"where": "update"}
    )
    assert errors is not None and errors >= 3


@ON_POSTGRESQL
async def test_a_restarted_server_is_noticed_without_a_restart_of_the_bot(
    proxied_app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    proxy: TcpProxy,
) -> None:
    official = await join(standin, proxied_app, invitations, user_id=70)
    await proxy.cut()  # every pooled connection dies, as in a restart
    await proxy.restore()
    replies = await official.send("/help")
    assert UNAVAILABLE not in " ".join(r.text for r in replies)
    assert any("/pledge" in r.text for r in replies)


async def test_a_locked_sqlite_file_makes_updates_wait_not_fail(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    tmp_path: Path,
) -> None:
    official = await join(standin, app, invitations, user_id=80)
    await walk_to(official, "title")
    # Another process (a backup, a careless sqlite3 shell) holds the write lock for longer
    # than the busy timeout.
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pledgebot.sqlite3'}")
    async with other.connect() as holder:
        await holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is taken
        sending = asyncio.create_task(official.send("A title typed during the lock"))
        await asyncio.sleep(7)
        await holder.rollback()
    replies = await asyncio.wait_for(sending, timeout=30)
    texts = " ".join(r.text for r in replies)
    assert UNAVAILABLE in texts and "something went wrong" not in texts
    await other.dispose()


@ON_POSTGRESQL
async def test_an_update_waiting_at_a_stop_is_held_over_and_handled_at_the_next_start(
    proxied_app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    proxy: TcpProxy,
) -> None:
    official = await join(standin, proxied_app, invitations, user_id=90)
    await walk_to(official, "title")
    await proxy.cut()
    sending = asyncio.create_task(official.send("Typed just before the stop"))
    await asyncio.sleep(1)
    outage_of(proxied_app).stopping = True  # SIGTERM
    replies = await asyncio.wait_for(sending, timeout=10)
    assert [UNAVAILABLE in r.text for r in replies] == [True]  # told once; no apology after
    assert (await latest_pledge(sessions, 90)).title == ""

    await proxy.restore()
    outage_of(proxied_app).stopping = False  # the next start
    mark = standin.history_mark()
    await proxied_app.start()
    try:
        assert await replay_held(proxied_app) == 1
        async with asyncio.timeout(10):
            while (await latest_pledge(sessions, 90)).title == "":  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await proxied_app.stop()
    assert any("Describe the pledge" in m.text for m in standin.messages_since(mark, 90))
    assert await replay_held(proxied_app) == 0  # handed over once


def test_in_webhook_mode_a_waiting_update_is_left_to_the_inbox_not_written_out(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    update = Update.de_json(standin.message_update(SimUser(5, "Eve"), "a title"), None)
    assert update is not None
    outage = Outage(held=tmp_path / "held.jsonl", kept_by_inbox=True)
    assert outage.hold_over(update)  # the inbox still has its row: the database was away
    assert not (tmp_path / "held.jsonl").exists()
    polling = Outage(held=tmp_path / "held.jsonl")
    assert polling.hold_over(update)
    assert [u["update_id"] for u in polling.take_held()] == [update.update_id]
