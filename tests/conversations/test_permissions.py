"""Who may do what: forged buttons, other localities' pledges, people without an invitation."""

from __future__ import annotations

import re

import pytest

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import (
    GOOD_TITLE,
    assert_no_error,
    join,
    latest_pledge,
    member,
    snapshot,
    state_of,
    submit_pledge,
    texts,
    walk_to,
)

REQUEST_ACCESS = ["🙋 Request access"]


@pytest.mark.parametrize(
    "template",
    [
        "m.open:{id}:0",
        "w.forum:{id}:5",
        "m.edit:{id}:0",
        "m.withdraw:{id}:0",
        "m.withdrawyes:{id}",
        "m.field:{id}:title",
        "m.progress:{id}:0",
        "m.stage:{id}:fulfilled",
        "w.resume:{id}",
        "w.edit:{id}:title",
        "w.submit:{id}",
        "w.save:{id}",
        "w.discard:{id}",
        "w.discardyes:{id}",
        "w.tog:{id}:gcm:1:0",
        "w.partner:{id}:1",
        "w.pdone:{id}",
        "w.pdone2:{id}:common",
        "w.padd:{id}:state",
        "w.pdel:{id}:0:0",
        "w.scope:{id}:local",
        "w.contact:{id}",
        "w.type:{id}:matching",
        "w.mmd:{id}:1:u",
        "w.mmdch:{id}",
        "w.fdone:{id}",
        "w.fget:{id}:1",
        "w.fdel:{id}:1",
        "w.msp:{id}:0:0",
        "w.mspdone:{id}",
    ],
)
async def test_official_cannot_see_or_change_another_localitys_pledge(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    template: str,
) -> None:
    lyon = await join(standin, app, invitations, user_id=22)
    await submit_pledge(lyon)
    submitted = await latest_pledge(sessions, 22)
    await walk_to(lyon, "title")  # and a draft in progress, at a step
    draft = await latest_pledge(sessions, 22)
    before = [snapshot(submitted), snapshot(draft)]

    paris = await join(standin, app, invitations, user_id=33, locality="Paris", first_name="Pia")
    for pledge in (submitted, draft):
        replies = await paris.press_data(template.format(id=pledge.id))
        assert paris.last_answer == "That pledge is not available.", template
        assert GOOD_TITLE not in texts(replies)
        assert_no_error(replies)
    after = [snapshot(await latest_pledge(sessions, 22))]
    assert [snapshot(p) for p in [submitted]] == before[:1]
    assert after == before[1:]
    assert await state_of(sessions, 33) is None
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "title"  # Lyon's step is untouched too


async def test_paris_list_does_not_show_lyons_pledges(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    lyon = await join(standin, app, invitations, user_id=22)
    await submit_pledge(lyon)
    paris = await join(standin, app, invitations, user_id=33, locality="Paris")
    replies = await paris.send("/mypledges")
    assert "Your locality has no pledges yet" in texts(replies)
    assert GOOD_TITLE not in texts(replies)


@pytest.mark.parametrize("command", ["/pledge", "/mypledges", "/invite"])
async def test_without_an_invitation_only_access_can_be_requested(
    app: PledgeApplication,
    standin: BotApiStandIn,
    command: str,
) -> None:
    person = standin.person(app, user_id=33, first_name="Nobody")
    replies = await person.send(command)
    assert f"You need an invitation to use {command}" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == REQUEST_ACCESS
    replies = await person.press("🙋 Request access")
    assert "Request access · 1 of 4" in texts(replies)


async def test_official_cannot_invite_and_coordinator_cannot_pledge(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    replies = await official.send("/invite")
    assert "/invite is not available to you." in texts(replies)
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    replies = await coordinator.send("/pledge")  # /pledge <reference> shows a card to anyone
    assert "Pledges are written by officials of a locality." in texts(replies)
    assert "Which forum" not in texts(replies)
    replies = await coordinator.send("/mypledges")
    assert "/mypledges is not available to you." in texts(replies)


@pytest.mark.parametrize("role", [None, Role.OFFICIAL])
async def test_forged_invite_button_does_not_issue_invitations(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    role: Role | None,
) -> None:
    """Only coordinators invite: a forged `i.role` press must not hand out a link."""
    if role is None:
        person = standin.person(app, user_id=33, first_name="Mallory")
        await person.send("/start")
    else:
        person = await join(standin, app, invitations, user_id=33)
    replies = await person.press_data("i.role:coordinator")
    link = re.search(r"https://t\.me/\S+\?start=(\S+)", texts(replies))
    assert link is None, "a non-coordinator was given an invitation link"
    assert person.last_answer, "the forged press was not refused with a reason"


@pytest.mark.parametrize("role", [None, Role.COORDINATOR])
async def test_forged_new_pledge_button_is_refused_politely(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    role: Role | None,
) -> None:
    """`w.new` from someone who may not pledge: a refusal, not 'something went wrong'."""
    if role is None:
        person = standin.person(app, user_id=33, first_name="Nobody")
        await person.send("/start")
    else:
        person = await join(standin, app, invitations, user_id=33, role=role)
    replies = await person.press_data("w.new")
    assert_no_error(replies)
    assert "Which forum" not in texts(replies)
    assert person.last_answer or replies


async def test_newcomer_forged_buttons_are_refused(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    lyon = await join(standin, app, invitations, user_id=22)
    await submit_pledge(lyon)
    pledge = await latest_pledge(sessions, 22)
    person = standin.person(app, user_id=33, first_name="Nobody")
    await person.send("/start")
    for data in (
        f"m.open:{pledge.id}:0",
        f"m.withdrawyes:{pledge.id}",
        f"w.resume:{pledge.id}",
        f"w.forum:{pledge.id}:5",
    ):
        replies = await person.press_data(data)
        assert person.last_answer == "That pledge is not available.", data
        assert_no_error(replies)
    for data in ("zz.unknown:1", "m.open:abc:def", "m.open", ":::", "w.forum::"):
        replies = await person.press_data(data)
        assert person.last_answer in (
            "That button is no longer valid.",
            "That pledge is not available.",
        ), data
        assert_no_error(replies)
    assert (await latest_pledge(sessions, 22)).state == "submitted"
    assert (await member(sessions, 33)).role is None


async def test_documents_of_another_localitys_pledge_are_never_sent(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    import io
    import zipfile

    lyon = await join(standin, app, invitations, user_id=22)
    await walk_to(lyon, "review")
    await lyon.send_document("lyon-plan.pdf", data=b"%PDF lyon")
    await lyon.press("✅ Submit")
    pledge = await latest_pledge(sessions, 22)
    paris = await join(standin, app, invitations, user_id=33, locality="Paris", first_name="Pia")
    # A forged press for Lyon's document: refused, nothing sent.
    await paris.press_data(f"w.fget:{pledge.id}:1")
    assert paris.last_answer == "That pledge is not available."
    assert all(m.document is None for m in standin.chat_messages(33))
    # Paris's export of documents holds none of Lyon's.
    await paris.send("/export")
    replies = await paris.press("📎 Their documents (ZIP)")
    assert "These pledges have no documents." in texts(replies)
    # A coordinator's holds them.
    coordinator = await join(
        standin, app, invitations, user_id=11, role=Role.COORDINATOR, first_name="Coco"
    )
    await coordinator.send("/export")
    replies = await coordinator.press("📎 Their documents (ZIP)")
    archive = zipfile.ZipFile(io.BytesIO(replies[-1].document["content"]))
    assert archive.namelist() == [f"{pledge.reference}/lyon-plan.pdf"]
