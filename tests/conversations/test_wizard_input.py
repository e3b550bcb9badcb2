"""Every wizard step with good and bad input: each gets a clear answer and the draft is kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlmodel import select

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson
from storage.engine import SessionFactory, transaction
from storage.models import Forum
from tests.conftest import Invitations
from tests.conversations.helpers import (
    FORUM,
    GOOD_DESCRIPTION,
    STEP_ORDER,
    answer,
    assert_no_error,
    join,
    latest_pledge,
    snapshot,
    start_pledge,
    state_of,
    texts,
    walk_to,
)

RTL_EMOJI = "مدينة ترحب بالجميع 🌍🤝 שלום"
HTML_LIKE = "<b>Bold</b> & <script>alert('x')</script>"
QUESTIONS = {
    "forum": "Which forum",
    "compacts": "Which compact",
    "title": "title",
    "description": "Describe the pledge",
    "gcm": "Global Compact for Migration does",
    "gcr": "Global Compact on Refugees does",
    "support": "What kind of support",
    "groups": "Who will benefit",
    "start": "When does the pledge start",
    "end": "When does it end",
    "budget": "Does the pledge have a budget",
    "partners": "joint pledge",
    "scope": "Where will the pledge make a difference",
    "contact": "Who is the contact person",
    "review": "Please check your pledge",
}
# A button each step's own action would carry, aimed at another person's pledge.
FORGED = {
    "forum": "w.forum:{pid}:{forum}",
    "compacts": "w.compact:{pid}:gcm",
    "title": "w.submit:{pid}",
    "description": "w.save:{pid}",
    "gcm": "w.tog:{pid}:gcm:3:0",
    "gcr": "w.tog:{pid}:gcr:1:0",
    "support": "w.tog:{pid}:support:financial:0",
    "groups": "w.done:{pid}:groups",
    "start": "w.discard:{pid}",
    "end": "w.ongoing:{pid}",
    "budget": "w.nobudget:{pid}",
    "partners": "w.pdone:{pid}",
    "scope": "w.scope:{pid}:local",
    "contact": "w.contact:{pid}",
    "review": "w.submit:{pid}",
}
BUTTON_STEPS = ("forum", "compacts", "gcm", "gcr", "support", "groups", "scope", "review")


async def forum_id(sessions: SessionFactory, code: str) -> int:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == code))).one()
        assert forum.id is not None
        return forum.id


class Checker:
    """Runs one disturbance after another and checks that the step and the draft survive."""

    def __init__(self, sessions: SessionFactory, person: SimulatedPerson, step: str) -> None:
        self.sessions, self.person, self.step = sessions, person, step
        self.before: dict[str, object] = {}

    async def remember(self) -> None:
        self.before = snapshot(await latest_pledge(self.sessions, self.person.user_id))

    async def check(self, what: str, act: Callable[[], Awaitable[list[SentMessage]]]) -> str:
        self.person.last_answer = None
        replies = await act()
        said = texts(replies) + "\n" + (self.person.last_answer or "")
        assert said.strip(), f"{self.step}/{what}: no answer at all"
        assert_no_error(replies)
        state = await state_of(self.sessions, self.person.user_id)
        assert state is not None and state.step == self.step, f"{self.step}/{what}: left step"
        after = snapshot(await latest_pledge(self.sessions, self.person.user_id))
        assert after == self.before, f"{self.step}/{what}: the draft changed"
        return said


@pytest.mark.parametrize("step", STEP_ORDER)
async def test_step_survives_every_disturbance(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    step: str,
) -> None:
    other = await join(standin, app, invitations, user_id=90, locality="Paris", first_name="Pia")
    await start_pledge(other)
    others_pledge = await latest_pledge(sessions, 90)
    others_before = snapshot(others_pledge)

    person = await join(standin, app, invitations, user_id=22)
    first = (await start_pledge(person))[-1]
    await walk_to(person, step, begin=False)
    checker = Checker(sessions, person, step)
    await checker.remember()
    pid = (await latest_pledge(sessions, 22)).id

    # Text of every awkward kind. Where a step reads text these are refused with a reason;
    # where it wants a button, the person is pointed to the buttons.
    awkward = ["   ", "x" * 4096]
    if step not in ("title", "description"):
        awkward += [RTL_EMOJI, HTML_LIKE]
    elif step == "description":
        awkward += ["🌍" * 2001]
    for text in awkward:
        said = await checker.check(f"text {text[:10]!r}", lambda t=text: person.send(t))
        if step in BUTTON_STEPS:
            assert "Please answer with the buttons below." in said
            assert QUESTIONS[step] in said  # the question comes again
    said = await checker.check("document", person.send_document)
    if step not in BUTTON_STEPS:
        assert "Please send this as a text message" in said
    await checker.check("photo", person.send_photo)
    await checker.check("sticker", person.send_sticker)

    # A button from an older message: told so, and asked the current question again.
    stale = f"w.forum:{pid}:5" if step != "forum" else f"w.done:{pid}:gcm"
    said = await checker.check("stale button", lambda: person.press_data(stale, message=first))
    assert "earlier message" in said and QUESTIONS[step] in said

    # A button of another person's pledge, forged: refused, and that pledge is untouched.
    forged = FORGED[step].format(pid=others_pledge.id, forum=5)
    said = await checker.check("forged button", lambda: person.press_data(forged))
    assert "That pledge is not available." in said
    assert snapshot(await latest_pledge(sessions, 90)) == others_before

    # A command in the middle of a step: answered, then the question again.
    said = await checker.check("/help", lambda: person.send("/help"))
    assert "/mypledges" in said and QUESTIONS[step] in said
    said = await checker.check("/pledge", lambda: person.send("/pledge"))
    assert QUESTIONS[step] in said
    said = await checker.check("/nonsense", lambda: person.send("/nonsense"))
    assert "I do not know the command /nonsense" in said

    # And the step still works.
    if step != "review":
        replies = await answer(person, step)
        assert_no_error(replies)
        following = STEP_ORDER[STEP_ORDER.index(step) + 1]
        assert QUESTIONS[following] in texts(replies)
    else:
        replies = await person.press("✅ Submit")
        assert "Your pledge is submitted" in texts(replies)


# ---------------------------------------------------------------- forum and compacts


async def test_forum_step_refuses_a_closed_forum(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await start_pledge(person)
    pledge = await latest_pledge(sessions, 22)
    closed = await forum_id(sessions, "GRF2023")
    replies = await person.press_data(f"w.forum:{pledge.id}:{closed}")
    assert person.last_answer == "That forum is no longer taking pledges."
    assert "Which forum" in texts(replies)
    assert (await latest_pledge(sessions, 22)).forum_id is None
    replies = await person.press_data(f"w.forum:{pledge.id}:99999")  # no such forum
    assert person.last_answer == "That forum is no longer taking pledges."
    replies = await person.press(FORUM)
    assert person.last_answer == FORUM
    assert "Which compact" in texts(replies)


async def test_one_compact_skips_the_other_compacts_objectives(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "compacts")
    pid = (await latest_pledge(sessions, 22)).id
    await person.press_data(f"w.compact:{pid}:everything")
    assert person.last_answer == "That button is not valid."
    replies = await person.press("Global Compact on Refugees (GCR)")
    assert "Step 3 of 13 · Title" in texts(replies)
    await answer(person, "title")
    replies = await answer(person, "description")
    assert "Global Compact on Refugees does" in texts(replies)
    assert "Migration does" not in texts(replies)


# ---------------------------------------------------------------- title and description


async def test_title_limits_and_spacing(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "title")
    replies = await person.send("ab")
    assert "That is 2 characters; please write at least 3." in texts(replies)
    replies = await person.send("t" * 201)
    assert "That is 201 characters; the limit is 200." in texts(replies)
    replies = await person.send("  Welcome   centre\n for all  ")
    assert "Describe the pledge" in texts(replies)
    assert (await latest_pledge(sessions, 22)).title == "Welcome centre for all"


async def test_title_and_description_keep_emoji_rtl_and_html_as_typed(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "title")
    await person.send(HTML_LIKE)
    description = RTL_EMOJI + "\n" + HTML_LIKE + " &amp; more"
    await person.send(description)
    pledge = await latest_pledge(sessions, 22)
    assert pledge.title == HTML_LIKE
    assert pledge.description == description
    for step in STEP_ORDER[STEP_ORDER.index("gcm") : -1]:
        replies = await answer(person, step)
    card = replies[-1]
    assert HTML_LIKE in card.text and RTL_EMOJI in card.text and "&amp; more" in card.text
    assert "&lt;script&gt;" in card.html and "<script>" not in card.html
    # Changing the title from the review shows the current one, escaped, in the question.
    replies = await person.press("✏️ Title")
    assert f"Now: {HTML_LIKE}" in texts(replies)


async def test_description_limits(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "description")
    replies = await person.send("Too short.")
    assert "please write at least 20" in texts(replies)
    replies = await person.send("d" * 2001)
    assert "the limit is 2,000" in texts(replies)
    text = "Line one of the plan.\nLine two: classes.\n\nLine four."
    replies = await person.send(text)
    assert "GCM objectives" in texts(replies)
    assert (await latest_pledge(sessions, 22)).description == text


# ---------------------------------------------------------------- multi-select steps


async def test_objectives_paging_toggling_and_done_with_nothing(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    prompt = (await walk_to(person, "gcm"))[-1]
    assert [b.text for b in prompt.buttons()][-3:] == ["1 / 3", "Next ›", "Done (0 chosen)"]

    await person.press("Done (0 chosen)")
    assert person.last_answer == "Please choose at least one."
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "gcm"

    await person.press("Next ›")
    page2 = standin.stored_message(22, prompt.message_id)
    labels = [b.text for b in page2.buttons()]
    assert "GCM 9 · Counter smuggling" in labels and "GCM 1 · Data" not in labels
    assert labels[-4:] == ["‹ Previous", "2 / 3", "Next ›", "Done (0 chosen)"]
    await person.press("GCM 15")
    labels = [b.text for b in standin.stored_message(22, prompt.message_id).buttons()]
    assert any(label.startswith("✅ GCM 15") for label in labels)  # still on page 2
    assert labels[-1] == "Done (1 chosen)"
    await person.press("Next ›")
    await person.press("GCM 23")
    await person.press("‹ Previous")
    await person.press("✅ GCM 15")  # unselect
    assert (await latest_pledge(sessions, 22)).gcm_objectives == [23]
    pid = (await latest_pledge(sessions, 22)).id
    await person.press_data(f"w.tog:{pid}:gcm:24:0", message=prompt)
    assert person.last_answer == "That button is not valid."
    await person.press_data(f"w.tog:{pid}:gcm:-1:0", message=prompt)
    assert person.last_answer == "That button is not valid."
    await person.press_data(f"w.tog:{pid}:colours:red:0", message=prompt)
    assert person.last_answer == "That button is not valid."
    replies = await person.press("Done (1 chosen)")
    assert "GCR objectives" in texts(replies)
    # The answered question becomes the next one, headed by the answer: one edit, no new
    # message, and none of the finished question's buttons is left to press.
    answered = standin.stored_message(22, prompt.message_id)
    assert answered.text.startswith("✔ GCM objectives: GCM 23")
    assert "GCR objectives" in answered.text
    assert not any(b.text.startswith(("GCM", "✅ GCM")) for b in answered.buttons())


async def test_support_and_groups_need_a_choice(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "support")
    await person.press("Done (0 chosen)")
    assert person.last_answer == "Please choose at least one."
    await person.press("Financial")
    await person.press("Policy")
    replies = await person.press("Done (2 chosen)")
    assert "Who will benefit" in texts(replies)
    await person.press("Done (0 chosen)")
    assert person.last_answer == "Please choose at least one."
    await person.press("Host communities")
    await person.press("Migrants")
    await person.press("Done")
    pledge = await latest_pledge(sessions, 22)
    assert pledge.support_types == ["financial", "policy"]
    assert sorted(pledge.target_groups) == ["host_communities", "migrants"]


# ---------------------------------------------------------------- dates


async def test_dates_iso_us_short_invalid_range_and_order(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "start")
    for bad in ("next spring", "2027-02-30", "13/45/2027", "2027"):
        replies = await person.send(bad)
        assert "I could not read that date. Please send it like" in texts(replies), bad
    replies = await person.send("1999-12-31")
    assert "Please send a date between 2000 and 2100." in texts(replies)
    replies = await person.send("1/31/2027")  # en-US short format
    assert "When does it end" in texts(replies)
    assert str((await latest_pledge(sessions, 22)).starts_on) == "2027-01-31"

    replies = await person.send("2026-12-31")
    assert "The end date must be on or after the start date, January 31, 2027." in texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "end"
    replies = await person.send("2027-01-31")  # same day is allowed
    assert "Does the pledge have a budget" in texts(replies)
    assert str((await latest_pledge(sessions, 22)).ends_on) == "2027-01-31"


async def test_ongoing_and_a_later_start_asks_for_the_end_again(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    # Move the start after the end: the end is asked again, then back to the review.
    await person.press("✏️ Start date")
    replies = await person.send("2030-01-01")
    assert "When does it end" in texts(replies)
    replies = await person.press("Ongoing, no end date")
    assert person.last_answer == "Ongoing"
    assert "Please check your pledge" in texts(replies)
    assert "January 1, 2030 – ongoing" in replies[-1].text
    pledge = await latest_pledge(sessions, 22)
    assert pledge.ongoing and pledge.ends_on is None


# ---------------------------------------------------------------- budget


@pytest.mark.parametrize(
    "text", ["250000", "100 XXX", "100 ABC", "-5 EUR", "0 EUR", "EUR", "5 EUR USD"]
)
async def test_budget_refusals(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    text: str,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "budget")
    replies = await person.send(text)
    assert (
        "Please send an amount above zero and a three-letter currency code (ISO 4217), "
        "like 250,000 EUR." in texts(replies)
    )
    pledge = await latest_pledge(sessions, 22)
    assert pledge.amount is None and pledge.currency is None


async def test_budget_with_thousands_and_cents_and_no_budget(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "budget")
    replies = await person.send("1,500.50 USD")
    assert "joint pledge" in texts(replies)
    pledge = await latest_pledge(sessions, 22)
    assert (str(pledge.amount), pledge.currency) == ("1500.50", "USD")
    await person.press("No partners")
    await answer(person, "scope")
    replies = await answer(person, "contact")
    assert "Budget: $1,500.50" in replies[-1].text
    await person.press("✏️ Budget")
    replies = await person.press("No budget to state")
    assert "Budget: none given" in replies[-1].text
    pledge = await latest_pledge(sessions, 22)
    assert pledge.amount is None and pledge.currency is None


# ---------------------------------------------------------------- review


async def test_review_save_cancel_and_go_back(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    replies = await person.press("💾 Save draft")
    assert "Draft saved" in texts(replies)
    assert await state_of(sessions, 22) is None
    replies = await person.send("/pledge")
    assert "You have saved drafts" in texts(replies)
    replies = await person.press("Welcome centre")
    assert "Please check your pledge" in texts(replies)
    replies = await person.press("✖️ Cancel pledge")
    assert "Cancel this pledge?" in texts(replies)
    replies = await person.press("No, go back")
    assert "Please check your pledge" in texts(replies)
    await person.press("✖️ Cancel pledge")
    replies = await person.press("Yes, cancel it")
    assert "The pledge is cancelled" in texts(replies)
    assert (await latest_pledge(sessions, 22)).state == "withdrawn"
    replies = await person.send("/pledge")
    assert "Which forum" in texts(replies)  # no drafts left to offer


async def test_description_over_the_limit_then_correct(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """The long text is refused with its length, and a good one afterwards still works."""
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "description")
    replies = await person.send("y" * 4096)
    assert "That is 4,096 characters; the limit is 2,000." in texts(replies)
    replies = await person.send(GOOD_DESCRIPTION)
    assert "GCM objectives" in texts(replies)
    assert (await latest_pledge(sessions, 22)).description == GOOD_DESCRIPTION


async def test_multi_select_buttons_naming_another_step_are_refused(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "title")
    pledge = await latest_pledge(sessions, 22)
    for data in (
        f"w.pg:{pledge.id}:title:1",
        f"w.done:{pledge.id}:title",
        f"w.tog:{pledge.id}:title:x:0",
    ):
        replies = await person.press_data(data)
        assert "something went wrong" not in texts(replies), data
        assert person.last_answer == "That button is not valid.", data
    assert (await latest_pledge(sessions, 22)).title == ""


async def test_a_partner_search_that_finds_nothing_names_the_button_on_screen(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    """It once said "tap Done" (French «Terminé», Spanish «Listo») under a "No partners"
    button: the text names the button as it reads."""
    person = await join(standin, app, invitations, user_id=71)
    question = (await walk_to(person, "partners"))[-1]
    assert [b.text for b in question.buttons()] == ["No partners"]
    replies = await person.send("Zzyzx")
    assert "or tap “No partners”." in replies[-1].text
