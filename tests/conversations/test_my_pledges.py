"""/mypledges: the list and its pages, the card, edits, progress reports, withdrawal, partners."""

from __future__ import annotations

from sqlmodel import select

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory, transaction
from storage.models import PledgeRevision, ProgressReport, Role
from storage.pledges import create_draft, update_pledge
from tests.conftest import Invitations
from tests.conversations.helpers import (
    GOOD_TITLE,
    answer,
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


async def test_invite_to_submitted_to_edit_to_progress_report(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, app, invitations, user_id=22)
    reference = await submit_pledge(official)
    note = standin.last_message(11)
    assert note is not None and f"New pledge submitted: {reference}" in note.text
    assert coordinator.user_id == 11

    replies = await official.send("/mypledges")
    assert "Your locality's pledges: 1 pledge" in texts(replies)
    assert f"1. {reference} {GOOD_TITLE} — Submitted" in texts(replies)
    replies = await official.press(f"1. {reference}")
    card = replies[-1]
    assert f"Reference: {reference}" in card.text and "Status: Submitted · Planning stage" in (
        card.text
    )
    assert [b.text for b in card.buttons()] == [
        "✏️ Edit",
        "📈 Report progress",
        "🗑 Withdraw",
        "‹ Back to the list",
    ]

    # Edit the title: bad input first, then a good one; a revision records it.
    replies = await official.press("✏️ Edit")
    assert f"Which part of {GOOD_TITLE} do you want to change?" in texts(replies)
    replies = await official.press("Title")
    assert "Change: Title" in texts(replies) and f"Now: {GOOD_TITLE}" in texts(replies)
    replies = await official.send("ab")
    assert "please write at least 3" in texts(replies)
    replies = await official.send_photo()
    assert "Please send this as a text message" in texts(replies)
    replies = await official.send("Newcomers' centre <2027> & more")
    assert "Saved. The change is recorded in the pledge's history." in texts(replies)
    assert "Title: Newcomers' centre <2027> & more" in replies[-1].text
    assert "&lt;2027&gt; &amp; more" in replies[-1].html
    pledge = await latest_pledge(sessions, 22)
    assert pledge.title == "Newcomers' centre <2027> & more" and pledge.state == "submitted"
    async with transaction(sessions) as session:
        revisions = (
            await session.exec(
                select(PledgeRevision).where(
                    PledgeRevision.pledge_id == pledge.id, PledgeRevision.action == "edited"
                )
            )
        ).all()
    assert revisions[-1].changes["title"] == [GOOD_TITLE, "Newcomers' centre <2027> & more"]
    assert await state_of(sessions, 22) is None

    # Edit a multi-select field.
    await official.press("✏️ Edit")
    replies = await official.press("Target groups")
    assert "Change: Target groups" in texts(replies)
    await official.press("Stateless persons")
    replies = await official.press("Done (2 chosen)")
    assert "Target groups: Refugees and Stateless persons" in replies[-1].text

    # Report progress: stage, then a narrative.
    replies = await official.press("📈 Report progress")
    assert "Where does" in texts(replies)
    replies = await official.press("In progress")
    assert official.last_answer == "In progress"
    assert "Stage: In progress" in texts(replies)
    replies = await official.send("Too short")
    assert "please write at least 10" in texts(replies)
    replies = await official.send_document()
    assert "Please send this as a text message" in texts(replies)
    narrative = "Opened in March: 120 people <b>advised</b> & 40 in classes. مرحبا 🌍"
    replies = await official.send(narrative)
    assert "Progress report saved" in texts(replies)
    assert "Status: Submitted · In progress" in replies[-1].text
    async with transaction(sessions) as session:
        reports = (await session.exec(select(ProgressReport))).all()
    assert [(r.stage, r.narrative) for r in reports] == [("in_progress", narrative)]


async def test_progress_step_survives_a_restarted_list_and_commands(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await submit_pledge(official)
    await official.send("/mypledges")
    await official.press(0)
    await official.press("📈 Report progress")
    await official.press("Fulfilled")
    replies = await official.send("x" * 2001)
    assert "the limit is 2,000" in texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "narrative"
    replies = await official.send("/cancel")
    assert "Stopped." in texts(replies)
    replies = await official.send("All fulfilled, thank you very much.")
    assert "I am not waiting for an answer" in texts(replies)
    assert (await latest_pledge(sessions, 22)).stage == "planning"


async def test_help_during_a_progress_report_repeats_the_question(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await submit_pledge(official)
    await official.send("/mypledges")
    await official.press(0)
    await official.press("📈 Report progress")
    await official.press("In progress")
    replies = await official.send("/help")
    # /help says "here it is again": the narrative question must then really come again.
    assert "You were in the middle of something" in texts(replies)
    assert "Now tell us in a few sentences what has been done" in texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "narrative"


async def test_progress_is_not_for_drafts(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "review")
    await official.press("💾 Save draft")
    replies = await official.send("/mypledges")
    assert "(draft)" in texts(replies)
    replies = await official.press(0)
    assert [b.text for b in replies[-1].buttons()] == [
        "▶️ Continue this draft",
        "🗑 Withdraw",
        "‹ Back to the list",
    ]
    pledge = await latest_pledge(sessions, 22)
    await official.press_data(f"m.progress:{pledge.id}:0")
    assert official.last_answer == "Progress can be reported once a pledge is submitted."
    await official.press_data(f"m.stage:{pledge.id}:fulfilled")
    assert official.last_answer == "That button is not valid."
    replies = await official.press("▶️ Continue this draft")
    assert "Please check your pledge" in texts(replies)


async def test_withdraw_asks_first_then_the_pledge_is_closed(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await submit_pledge(official)
    await official.send("/mypledges")
    card = (await official.press(0))[-1]
    replies = await official.press("🗑 Withdraw")
    assert "Withdraw Welcome centre for newcomers?" in texts(replies)
    replies = await official.press("No, keep it")
    assert (await latest_pledge(sessions, 22)).state == "submitted"
    await official.press("🗑 Withdraw", message=card)
    replies = await official.press("Yes, withdraw it")
    assert "is withdrawn" in texts(replies)
    pledge = await latest_pledge(sessions, 22)
    assert pledge.state == "withdrawn"
    # Double tap, stale edit button: refused with a reason.
    await official.press_data(f"m.withdrawyes:{pledge.id}")
    assert official.last_answer == "This pledge can no longer be withdrawn."
    await official.press("✏️ Edit", message=card)
    assert official.last_answer == "This pledge can no longer be changed."
    await official.press_data(f"m.field:{pledge.id}:title")
    assert official.last_answer == "This pledge can no longer be changed."
    replies = await official.send("/mypledges")
    assert "Withdrawn" in texts(replies)
    replies = await official.press(0)
    assert [b.text for b in replies[-1].buttons()] == ["‹ Back to the list"]


async def test_mypledges_pages_through_more_than_eight(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    who = await member(sessions, 22)
    async with transaction(sessions) as session:
        for number in range(1, 12):
            draft = await create_draft(session=session, member=who, language="en")
            await update_pledge(
                session=session,
                pledge=draft,
                changes={"title": f"Pledge <{number:02d}> & co"},
                member_id=who.id or 0,
            )
    replies = await official.send("/mypledges")
    first = replies[-1]
    assert "Your locality's pledges: 11 pledges" in first.text
    labels = [b.text for b in first.buttons()]
    assert len(labels) == 8 + 2 and labels[-2:] == ["1 / 2", "Next ›"]
    assert "1. Pledge <11> & co" in labels[0]
    assert "&lt;11&gt; &amp; co" in first.html
    replies = await official.press("Next ›")
    second = standin.stored_message(22, first.message_id)
    assert "9. (draft) Pledge <03> & co" in second.text
    assert [b.text for b in second.buttons()][-2:] == ["‹ Previous", "2 / 2"]
    assert len(second.buttons()) == 3 + 2
    await official.press("2 / 2")  # the page number does nothing, but is answered
    replies = await official.press("11. Pledge <01> & co")
    assert "Pledge <01> & co" in replies[-1].text
    replies = await official.press("‹ Back to the list")
    assert "9. (draft) Pledge <03> & co" in texts(replies)
    await official.press("‹ Previous", message=first)
    assert "1. (draft) Pledge <11> & co" in standin.stored_message(22, first.message_id).text
    # A page that no longer exists (a forged or very old button) shows the last one.
    replies = await official.press_data("m.list:7", message=first)
    assert "9. (draft)" in texts(replies)
    replies = await official.press_data("m.list:-3", message=first)
    assert_no_error(replies)


async def test_joint_pledge_with_a_partner_locality(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    partner = await join(
        standin,
        app,
        invitations,
        user_id=44,
        locality="Saint-Étienne",
        country="FR",
        first_name="Pat",
    )
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "partners")
    replies = await official.send("<script>")
    assert "No registered local government matches “<script>”" in texts(replies)
    assert "&lt;script&gt;" in replies[-1].html
    replies = await official.send("Lyon")  # one's own locality is not a partner
    assert "No registered local government matches" in texts(replies)
    replies = await official.send("etienne")
    assert "Saint-Étienne, France" in [b.text for b in replies[-1].buttons()]
    await official.press("Saint-Étienne, France")
    labels = [b.text for b in standin.stored_message(22, replies[-1].message_id).buttons()]
    # Two ways to finish, each saying how the pledge is shared; in partnership until told.
    assert labels[0] == "✅ Saint-Étienne, France"
    assert labels[-2:] == ["Done · one common text", "✅ Done · in partnership"]
    await official.press("✅ Saint-Étienne, France")  # off
    await official.press("Saint-Étienne, France")  # and on again
    pledge = await latest_pledge(sessions, 22)
    own = pledge.locality_id
    await official.press_data(f"w.partner:{pledge.id}:{own}")
    assert official.last_answer == "That button is not valid."
    await official.press_data(f"w.partner:{pledge.id}:99999")
    assert official.last_answer == "That button is not valid."
    replies = await official.press("Done · one common text")
    assert "Scope" in replies[-1].text
    await answer(official, "scope")
    replies = await answer(official, "contact")
    assert "Partners: Saint-Étienne, France" in replies[-1].text
    assert "Pledge type: Common pledge (one text for several governments)" in replies[-1].text
    replies = await official.press("✅ Submit")
    assert "Your pledge is submitted" in texts(replies)
    pledge = await latest_pledge(sessions, 22)
    before = snapshot(pledge)

    # The partner sees the joint pledge in their list, but cannot change it.
    replies = await partner.send("/mypledges")
    assert GOOD_TITLE in texts(replies)
    replies = await partner.press(0)
    assert "Locality: Lyon, France" in replies[-1].text
    assert [b.text for b in replies[-1].buttons()] == ["‹ Back to the list"]
    for data in (
        f"m.edit:{pledge.id}:0",
        f"m.field:{pledge.id}:title",
        f"m.withdraw:{pledge.id}:0",
        f"m.withdrawyes:{pledge.id}",
        f"m.progress:{pledge.id}:0",
        f"m.stage:{pledge.id}:fulfilled",
        f"w.resume:{pledge.id}",
        f"w.forum:{pledge.id}:5",
    ):
        replies = await partner.press_data(data)
        assert partner.last_answer, data
        assert_no_error(replies)
    assert snapshot(await latest_pledge(sessions, 22)) == before
    assert await state_of(sessions, 44) is None


async def test_edit_step_refuses_stale_and_forged_buttons(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await submit_pledge(official)
    await official.send("/mypledges")
    await official.press(0)
    await official.press("✏️ Edit")
    await official.press("Budget")
    pledge = await latest_pledge(sessions, 22)
    await official.press_data(f"w.forum:{pledge.id}:5")
    assert official.last_answer is not None and "earlier message" in official.last_answer
    await official.press_data(f"m.field:{pledge.id}:nonsense")
    assert official.last_answer == "This pledge can no longer be changed." or (
        official.last_answer == "That button is not valid."
    )
    replies = await official.send("12 EUR")
    assert "Budget: €12.00" in replies[-1].text
    assert await state_of(sessions, 22) is None
