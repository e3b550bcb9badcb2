"""Migrations: the schema they build, the data they seed, and agreement with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col, select

import storage.models  # noqa: F401  (registers the tables)
from storage.engine import SessionFactory, transaction
from storage.forums import forum_name, list_open_forums
from storage.migrate import alembic_config, upgrade
from storage.models import Forum, Pledge

SEEDED = {
    "IMRF2022": False,
    "GRF2023": False,
    "GRFPR2025": False,
    "IMRF2026": False,
    "GRF2027": True,
}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _seeded(sessions: SessionFactory) -> dict[str, bool]:
    async with transaction(sessions) as session:
        forums = (await session.exec(select(Forum))).all()
    return {forum.code: forum.is_open for forum in forums}


async def test_upgrade_creates_every_table_of_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
        current = await connection.run_sync(_current)
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current == head


async def test_upgrade_seeds_the_five_forums(sessions: SessionFactory) -> None:
    assert await _seeded(sessions) == SEEDED


async def test_seeded_forums_have_names_and_compacts(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        forums = {f.code: f for f in (await session.exec(select(Forum))).all()}
        open_forums = await list_open_forums(session=session)
    assert [f.code for f in open_forums] == ["GRF2027"]
    assert forum_name(forums["GRF2027"], "en") == "Global Refugee Forum 2027"
    assert forum_name(forums["GRF2027"], "fr") == "Forum mondial sur les réfugiés 2027"
    assert forum_name(forums["GRF2027"], "zh_Hans") == "2027年全球难民论坛"
    # No German name: the English one, marked as such.
    assert forum_name(forums["GRF2027"], "de") == "Global Refugee Forum 2027 (EN)"
    assert set(forums["GRF2027"].compacts) == {"gcm", "gcr"}
    assert forums["IMRF2026"].compacts == ["gcm"]
    assert str(forums["IMRF2026"].starts_on) == "2026-05-05"
    assert forums["GRF2027"].starts_on is None
    assert forums["GRF2027"].reminder_offsets == [30, 14, 7, 3, 1]


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_downgrade_to_base_and_up_again(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, "base")
    async with engine.connect() as connection:
        left = await connection.run_sync(_tables)
        assert await connection.run_sync(_current) is None
    assert left & set(SQLModel.metadata.tables) == set()

    await upgrade(engine)
    assert await _seeded(sessions) == SEEDED  # seeded once, not twice
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_downgrade_of_the_seed_removes_only_the_forums(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, "0001")
    async with engine.connect() as connection:
        assert "forum" in await connection.run_sync(_tables)
        assert (await connection.execute(text("SELECT COUNT(*) FROM forum"))).scalar_one() == 0
    await upgrade(engine)
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT COUNT(*) FROM forum"))).scalar_one() == 5


async def test_a_database_filled_before_the_un_form_fields_upgrades_with_its_pledges(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, "0008")
        # Filled as 0008 knew it: the columns 0009 adds do not exist yet.
        await connection.execute(
            text(
                "INSERT INTO locality (name, name_key, country, kind, created_at) "
                "VALUES ('Lyon', 'lyon', 'FR', 'municipality', '2026-01-01 00:00:00')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO member (telegram_id, display_name, role, locality_id, language, "
                "time_zone, reminder_hour, muted_kinds, active, created_at, last_seen_at) "
                "VALUES (7, 'Ana', 'official', 1, 'fr', 'UTC', 9, '[]', true, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO pledge (reference, locality_id, compacts, title, description, "
                "search_text, gcm_objectives, gcr_objectives, support_types, target_groups, "
                "ongoing, partner_ids, language, state, stage, created_by_id, created_at, "
                "updated_at) VALUES ('CLA-2026-0001', 1, '[\"gcm\"]', 'Logements', "
                "'Des logements pour les familles', '', '[5]', '[]', '[]', '[\"migrants\"]', "
                "false, '[]', 'fr', 'submitted', 'planning', 1, '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            )
        )
        # A joint pledge with Lyon as its partner: its type must not read "individual".
        await connection.execute(
            text(
                "INSERT INTO pledge (reference, locality_id, compacts, title, description, "
                "search_text, gcm_objectives, gcr_objectives, support_types, target_groups, "
                "ongoing, partner_ids, language, state, stage, created_by_id, created_at, "
                "updated_at) VALUES ('CLA-2026-0002', 1, '[\"gcr\"]', 'Accueil commun', "
                "'Un accueil commun pour les familles', '', '[]', '[1]', '[]', "
                "'[\"refugees\"]', false, '[1]', 'fr', 'approved', 'planning', 1, "
                "'2026-01-02 00:00:00', '2026-01-02 00:00:00')"
            )
        )
    await upgrade(engine)
    async with transaction(sessions) as session:
        pledge, joint = (await session.exec(select(Pledge).order_by(col(Pledge.id)))).all()
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
    assert (joint.reference, joint.partner_ids, joint.gcr_objectives) == ("CLA-2026-0002", [1], [1])
    assert joint.pledge_type == "partnership" and joint.refugee_situations == []
    assert (pledge.reference, pledge.title, pledge.gcm_objectives) == (
        "CLA-2026-0001",
        "Logements",
        [5],
    )
    # The new answers read as not given, so the card shows "—" and an edit can add them.
    assert pledge.pledge_type == "individual" and pledge.beneficiary_countries == []
    assert pledge.refugee_situations == []
    assert (pledge.contact_name, pledge.contact_email, pledge.scope) == ("", "", "")
    assert forum.description_min is None and forum.description_max is None
