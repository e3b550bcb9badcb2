"""Forums: creation and edits with every value checked, listing, upcoming deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.engine import SessionFactory, transaction
from storage.forums import (
    ForumError,
    create_forum,
    forum_name,
    get_forum,
    get_forum_by_code,
    is_time_zone,
    list_forums,
    normalize_offsets,
    upcoming_deadlines,
    update_forum,
)
from storage.models import Forum

GENEVA = ZoneInfo("Europe/Zurich")
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


async def _add(sessions: SessionFactory, code: str = "GRF2029", **values: object) -> Forum:
    values = dict(values)
    async with transaction(sessions) as session:
        return await create_forum(
            session=session,
            code=code,
            names=values.pop("names", {"en": f"Forum {code}"}),  # type: ignore[arg-type]
            **values,  # type: ignore[arg-type]
        )


async def test_a_forum_is_created_with_its_values_normalised(sessions: SessionFactory) -> None:
    deadline = datetime(2029, 10, 1, 17, 0, tzinfo=GENEVA)
    forum = await _add(
        sessions,
        code=" grf2029 ",
        names={"en": "  Global   Refugee Forum 2029 ", "fr": "Forum mondial 2029", "es": ""},
        location=" Geneva ",
        compacts=["GCR"],
        starts_on=date(2029, 12, 10),
        ends_on=date(2029, 12, 12),
        pledge_deadline=deadline,
        deadline_time_zone="Europe/Zurich",
        reminder_offsets=[7, 30, 7, 1],
    )
    async with transaction(sessions) as session:
        stored = await get_forum(session=session, forum_id=forum.id or 0)
    assert stored is not None
    assert stored.code == "GRF2029"
    assert stored.names == {"en": "Global Refugee Forum 2029", "fr": "Forum mondial 2029"}
    assert (stored.location, stored.compacts) == ("Geneva", ["gcr"])
    assert stored.pledge_deadline == deadline and stored.pledge_deadline.tzinfo is not None
    assert stored.pledge_deadline.utcoffset() == timedelta(0)  # kept in UTC
    assert stored.pledge_deadline.hour == 15  # 17:00 in Geneva in October is 15:00 UTC
    assert stored.reminder_offsets == [30, 7, 1]
    assert stored.is_open is True


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"code": "G1"}, "code"),
        ({"code": "GRF-2029"}, "code"),
        ({"code": "A" * 17}, "code"),
        ({"code": "GRF2027"}, "code_taken"),  # seeded by a migration
        ({"names": {}}, "name"),
        ({"names": {"en": "   "}}, "name"),
        ({"names": {"en": "x" * 201}}, "name"),
        ({"names": {"English": "Forum"}}, "name"),
        ({"compacts": []}, "compacts"),
        ({"compacts": ["gcm", "other"]}, "compacts"),
        ({"pledge_deadline": datetime(2029, 10, 1, 17, 0)}, "deadline"),
        ({"deadline_time_zone": "Europe/Geneva"}, "time_zone"),
        ({"deadline_time_zone": "../../etc/passwd"}, "time_zone"),
        ({"deadline_time_zone": ""}, "time_zone"),
        ({"reminder_offsets": [0]}, "offsets"),
        ({"reminder_offsets": [-1]}, "offsets"),
        ({"reminder_offsets": [366]}, "offsets"),
        ({"reminder_offsets": [1.5]}, "offsets"),
        ({"reminder_offsets": [True]}, "offsets"),
        ({"starts_on": date(2029, 12, 12), "ends_on": date(2029, 12, 10)}, "dates"),
    ],
)
async def test_bad_values_are_refused_and_nothing_is_stored(
    sessions: SessionFactory, values: dict[str, object], problem: str
) -> None:
    values = dict(values)  # the parameters are shared by both databases' runs
    code = str(values.pop("code", "NEW2029"))
    async with transaction(sessions) as session:
        before = len(await list_forums(session=session))
    with pytest.raises(ForumError) as raised:
        await _add(sessions, code, **values)
    assert raised.value.problem == problem
    async with transaction(sessions) as session:
        assert len(await list_forums(session=session)) == before


async def test_update_changes_only_what_it_is_given_and_checks_it(
    sessions: SessionFactory,
) -> None:
    forum = await _add(sessions, starts_on=date(2029, 12, 10), ends_on=date(2029, 12, 12))
    await _add(sessions, "OTHER2029")
    async with transaction(sessions) as session:
        stored = await get_forum(session=session, forum_id=forum.id or 0)
        assert stored is not None
        await update_forum(
            session=session,
            forum=stored,
            changes={
                "names": {**stored.names, "fr": "Forum 2029"},
                "reminder_offsets": [3, 14, 3],
                "is_open": False,
                "deadline_time_zone": "America/New_York",
            },
        )
        for changes, problem in [
            ({"code": "other2029"}, "code_taken"),
            ({"ends_on": date(2029, 12, 1)}, "dates"),
            ({"reminder_offsets": [400]}, "offsets"),
            ({"colour": "blue"}, "field"),
            ({"pledge_deadline": datetime(2029, 1, 1)}, "deadline"),
        ]:
            with pytest.raises(ForumError) as raised:
                await update_forum(session=session, forum=stored, changes=changes)
            assert raised.value.problem == problem
        await update_forum(session=session, forum=stored, changes={"code": "grf2029b"})
    async with transaction(sessions) as session:
        again = await get_forum_by_code(session=session, code="GRF2029B")
    assert again is not None
    assert again.names == {"en": "Forum GRF2029", "fr": "Forum 2029"}
    assert again.reminder_offsets == [14, 3]
    assert (again.is_open, again.deadline_time_zone) == (False, "America/New_York")
    assert (again.starts_on, again.ends_on) == (date(2029, 12, 10), date(2029, 12, 12))
    async with transaction(sessions) as session:
        assert await get_forum_by_code(session=session, code="grf2029b") is not None
        assert await get_forum_by_code(session=session, code="GRF2029") is None


async def test_list_forums_puts_open_ones_first_then_the_latest(sessions: SessionFactory) -> None:
    await _add(sessions, "SHUT2029", is_open=False, starts_on=date(2029, 1, 1))
    async with transaction(sessions) as session:
        found = await list_forums(session=session)
    codes = [f.code for f in found]
    open_count = sum(f.is_open for f in found)
    assert all(f.is_open for f in found[:open_count])
    assert not any(f.is_open for f in found[open_count:])
    # The seeded closed forums, latest first, after the one added.
    assert codes[open_count:] == ["SHUT2029", "IMRF2026", "GRFPR2025", "GRF2023", "IMRF2022"]


async def test_upcoming_deadlines_are_open_future_and_soonest_first(
    sessions: SessionFactory,
) -> None:
    await _add(sessions, "LATER", pledge_deadline=NOW + timedelta(days=60))
    await _add(sessions, "SOON", pledge_deadline=NOW + timedelta(days=3))
    await _add(sessions, "PAST", pledge_deadline=NOW - timedelta(minutes=1))
    await _add(sessions, "EXACT", pledge_deadline=NOW)
    await _add(sessions, "SHUT", pledge_deadline=NOW + timedelta(days=1), is_open=False)
    await _add(sessions, "NODATE")
    async with transaction(sessions) as session:
        found = await upcoming_deadlines(session=session, now=NOW)
    assert [f.code for f in found] == ["SOON", "LATER"]


def test_offsets_are_sorted_descending_and_deduplicated() -> None:
    assert normalize_offsets([1, 30, 7, 30, 365]) == [365, 30, 7, 1]
    assert normalize_offsets([]) == []


def test_time_zones_are_iana_names() -> None:
    assert is_time_zone("Europe/Zurich") and is_time_zone("UTC")
    assert not is_time_zone("Europe/Geneva")  # not an IANA zone: Geneva keeps Zurich's time
    assert not is_time_zone(" Europe/Zurich") and not is_time_zone("/etc/localtime")


def test_a_forum_is_named_in_the_readers_language_or_the_best_there_is() -> None:
    forum = Forum(code="X2029", names={"fr": "Forum", "zh": "论坛"})
    assert forum_name(forum, "zh_Hans") == "论坛"
    # No English name: any name beats the code, marked with the language it is in.
    assert forum_name(forum, "en") == "Forum (FR)"
    assert forum_name(Forum(code="X2029", names={}), "en") == "X2029"
