"""Walk-through helpers shared by the conversation tests: join, start a pledge, reach a step."""

from __future__ import annotations

from sqlmodel import select

from bot.app import PledgeApplication
from bot.standin import EPOCH, BotApiStandIn, SentMessage, SimulatedPerson, SimUser
from bot.unreadable import readable
from storage.engine import SessionFactory, transaction
from storage.members import get_member_by_telegram_id
from storage.models import ConversationState, Member, Pledge, Role
from tests.conftest import Invitations

FORUM = "Global Refugee Forum 2027"
GOOD_TITLE = "Welcome centre for newcomers"
GOOD_DESCRIPTION = (
    "We will open a one-stop centre for newcomers, with language classes and legal advice."
)
GOOD_CONTACT = "Ana Silva\nDeputy Mayor\nana@example.org"

# The wizard's steps for a pledge serving both compacts, in order.
STEP_ORDER = (
    "forum",
    "compacts",
    "title",
    "description",
    "gcm",
    "gcr",
    "support",
    "groups",
    "start",
    "end",
    "budget",
    "partners",
    "scope",
    "contact",
    "review",
)


def texts(replies: list[SentMessage]) -> str:
    """Everything the bot said in reply, as one string (for `in` checks)."""
    return "\n".join(r.text for r in replies)


def assert_no_error(replies: list[SentMessage]) -> None:
    """The person never sees the error handler's apology."""
    assert "something went wrong" not in texts(replies), texts(replies)


async def join(
    standin: BotApiStandIn,
    app: PledgeApplication,
    invitations: Invitations,
    *,
    user_id: int,
    role: Role = Role.OFFICIAL,
    locality: str | None = "Lyon",
    country: str = "FR",
    first_name: str = "Olga",
    language_code: str | None = "en",
) -> SimulatedPerson:
    """A person who joined with a fresh invitation."""
    person = standin.person(
        app, user_id=user_id, first_name=first_name, language_code=language_code
    )
    token = await invitations.make(
        role, locality=locality if role is Role.OFFICIAL else None, country=country
    )
    replies = await person.send(f"/start {token}")
    assert "Welcome" in texts(replies), texts(replies)
    return person


async def answer(person: SimulatedPerson, step: str) -> list[SentMessage]:
    """A good answer to one wizard step (a pledge serving both compacts)."""
    if step == "forum":
        return await person.press(FORUM)
    if step == "compacts":
        return await person.press("Both, in unison")
    if step == "title":
        return await person.send(GOOD_TITLE)
    if step == "description":
        return await person.send(GOOD_DESCRIPTION)
    if step == "gcm":
        await person.press("GCM 1 ")
        return await person.press("Done")
    if step == "gcr":
        await person.press("GCR 2")
        return await person.press("Done")
    if step == "support":
        await person.press("Technical")
        return await person.press("Done")
    if step == "groups":
        await person.press("Refugees")
        return await person.press("Done")
    if step == "start":
        return await person.send("2027-01-15")
    if step == "end":
        return await person.send("2028-12-31")
    if step == "budget":
        return await person.send("250000 EUR")
    if step == "partners":
        return await person.press("No partners")
    if step == "scope":
        return await person.press("Local")
    if step == "contact":
        return await person.send(GOOD_CONTACT)
    raise ValueError(step)


async def start_pledge(person: SimulatedPerson) -> list[SentMessage]:
    """/pledge, starting a new pledge even if drafts exist."""
    replies = await person.send("/pledge")
    if "saved drafts" in texts(replies):
        replies = await person.press("Start a new pledge")
    assert "Which forum" in texts(replies), texts(replies)
    return replies


async def walk_to(person: SimulatedPerson, step: str, *, begin: bool = True) -> list[SentMessage]:
    """Start a pledge and answer every step before `step`; returns the question of `step`."""
    replies = await start_pledge(person) if begin else []
    for earlier in STEP_ORDER[: STEP_ORDER.index(step)]:
        replies = await answer(person, earlier)
        assert_no_error(replies)
    return replies


async def submit_pledge(person: SimulatedPerson) -> str:
    """Walk a whole new pledge and submit it; returns its reference."""
    await walk_to(person, "review")
    replies = await person.press("✅ Submit")
    reference = [w for w in texts(replies).replace(".", " ").split() if w.startswith("CLA-")]
    assert reference, texts(replies)
    return reference[0]


async def member(sessions: SessionFactory, user_id: int) -> Member:
    async with transaction(sessions) as session:
        found = await get_member_by_telegram_id(session=session, telegram_id=user_id)
        assert found is not None
        return found


async def reads(sessions: SessionFactory, user_id: int, language: str) -> None:
    """The member reads the bot in `language` from their next update on."""
    async with transaction(sessions) as session:
        found = await get_member_by_telegram_id(session=session, telegram_id=user_id)
        assert found is not None
        found.language = language
        session.add(found)


async def state_of(sessions: SessionFactory, user_id: int) -> ConversationState | None:
    """The stored conversation step of a person."""
    found = await member(sessions, user_id)
    async with transaction(sessions) as session:
        return await session.get(ConversationState, found.id)


async def pledges_of(sessions: SessionFactory, user_id: int) -> list[Pledge]:
    """Every pledge a person created, oldest first."""
    found = await member(sessions, user_id)
    async with transaction(sessions) as session:
        statement = select(Pledge).where(Pledge.created_by_id == found.id).order_by(Pledge.id)
        return list((await session.exec(statement)).all())


async def latest_pledge(sessions: SessionFactory, user_id: int) -> Pledge:
    found = await pledges_of(sessions, user_id)
    assert found, "no pledge"
    return found[-1]


def snapshot(pledge: Pledge) -> dict[str, object]:
    """A pledge's answers, to compare before and after something that must not change them."""
    return pledge.model_dump(exclude={"updated_at"})


async def deliver(
    standin: BotApiStandIn,
    app: PledgeApplication,
    body: dict[str, object],
    *,
    chat_id: int,
    pace: float = 2.0,
) -> list[SentMessage]:
    """Process a hand-built update (edited message, group message) as SimulatedPerson does."""
    standin.clock.advance(pace)
    update = readable(body, app.bot)  # as the bot's own fetching reads it
    mark = standin.history_mark()
    await app.process_update(update)
    return standin.messages_since(mark, chat_id)


async def send_edit(
    standin: BotApiStandIn, app: PledgeApplication, person: SimulatedPerson, text: str
) -> list[SentMessage]:
    """The person edits a message they sent earlier: Telegram sends an `edited_message`."""
    body = standin.message_update(person.user, text)
    message = body.pop("message")
    message["edit_date"] = message["date"] + 1
    return await deliver(standin, app, {**body, "edited_message": message}, chat_id=person.chat_id)


async def send_in_group(
    standin: BotApiStandIn,
    app: PledgeApplication,
    person: SimulatedPerson,
    text: str,
    *,
    group_id: int = -100_123,
) -> list[SentMessage]:
    """The person writes `text` in a group the bot is a member of."""
    # The stand-in simulates private chats only; make the group a chat it can write to.
    standin._users.setdefault(group_id, SimUser(group_id, "Pledge group", None, None))
    chat = standin._chat(group_id)
    message_id = chat.allocate_id()
    chat.user_messages[message_id] = standin.clock()
    message: dict[str, object] = {
        "message_id": message_id,
        "date": EPOCH + int(standin.clock()),
        "chat": {"id": group_id, "type": "group", "title": "Pledge group"},
        "from": person.user.to_json(),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return await deliver(
        standin, app, {"update_id": 900_000 + message_id, "message": message}, chat_id=group_id
    )
