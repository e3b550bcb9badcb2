"""The pledge wizard's fields, each declared once, and the walk through them.

A field is one `Field` record in `FIELDS`: its name, its label, the question it asks and the
buttons it offers, how it reads a typed answer, whether it applies to a pledge and whether its
answer is still missing. The functions below (next step, "Step n of m", missing steps, the
question again) only walk the records, so a new field is one more record in `FIELDS`.

Pure of Telegram updates: given a translator and a pledge, each function says what to show or
what to save; conversations/pledge_wizard.py decides when to show it and saves the answers.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup

from conversations.cards import (
    beneficiaries_text,
    compacts_text,
    contact_text,
    locality_text,
    other_partner_text,
    scope_text,
)
from conversations.common import problem_text
from conversations.flow import ButtonData
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import (
    SELECTED_MARK,
    Option,
    button,
    choice_keyboard,
    page_count,
    pager_row,
    rows,
    which_date,
)
from conversations.parsing import (
    AmbiguousDate,
    check_length,
    check_name,
    check_shown,
    country_name,
    read_contact,
    read_countries,
    read_date,
    read_money,
)
from conversations.vocabulary import (
    OBJECTIVES,
    PARTNER_KINDS,
    PLEDGE_TYPES,
    REFUGEE_SITUATIONS,
    SCOPES,
    SUPPORT_TYPES,
    TARGET_GROUPS,
    label,
    objective_label,
)
from storage.attachments import MAX_ATTACHMENTS, list_attachments
from storage.forums import forum_name, get_forum, list_open_forums
from storage.localities import ENDORSEMENT_ANSWERS, get_localities, search_localities
from storage.models import (
    MAX_DESCRIPTION,
    Compact,
    Locality,
    Pledge,
    PledgeType,
    RefugeeSituation,
    Scope,
    WorkflowState,
)
from storage.pledges import get_pledge_by_reference, last_contact, looks_like_reference

WIZARD = "wizard"
EDIT = "edit"
REVIEW = "review"
DISCARD = "discard"

FORUM, COMPACTS, TITLE, DESCRIPTION = "forum", "compacts", "title", "description"
GCM, GCR, SUPPORT, GROUPS = "gcm", "gcr", "support", "groups"
START, END, BUDGET, PARTNERS = "start", "end", "budget", "partners"
SCOPE, COUNTRIES, CONTACT, FILES = "scope", "countries", "contact", "files"
PLEDGE_TYPE, MULTISTAKEHOLDER, SITUATIONS = "type", "msp", "situations"

# Steps whose answer can be kept with a button (a multi-select step's Done already keeps).
KEEPABLE = (FORUM, COMPACTS, TITLE, DESCRIPTION, START, END, BUDGET, SCOPE, COUNTRIES, CONTACT)
TITLE_LIMITS = (3, 200)
DESCRIPTION_LIMITS = (20, 2000)
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_PARTNERS = 20
MAX_PARTNER_NAME = 100
MAX_COUNTRIES = 60
MAX_DOWNLOAD_MB = 20  # what the Bot API lets a bot download
OBJECTIVES_PER_PAGE = 8


# ---------------------------------------------------------------- the buttons' data
# Every wizard button names its pledge, so a press is checked against the pledge the person is
# working on; the fields keep the order of the old positional data, so buttons already sent
# in chats still parse.


@dataclass(frozen=True)
class ChooseForum(ButtonData, prefix="w.forum"):
    """The forum the pledge is for."""

    pledge: int
    forum: int


@dataclass(frozen=True)
class ChooseCompacts(ButtonData, prefix="w.compact"):
    """GCM, GCR or both (`gcm`, `gcr`, `both`)."""

    pledge: int
    choice: str


@dataclass(frozen=True)
class ToggleOption(ButtonData, prefix="w.tog"):
    """Choose or unchoose one option of a multi-select step, shown on `page`."""

    pledge: int
    step: str
    option: str
    page: int


@dataclass(frozen=True)
class TurnPage(ButtonData, prefix="w.pg"):
    """Another page of a multi-select step's options."""

    pledge: int
    step: str
    page: int


@dataclass(frozen=True)
class DoneChoosing(ButtonData, prefix="w.done"):
    """Finish a multi-select step."""

    pledge: int
    step: str


@dataclass(frozen=True)
class Ongoing(ButtonData, prefix="w.ongoing"):
    """The pledge has no end date."""

    pledge: int


@dataclass(frozen=True)
class KeepAnswer(ButtonData, prefix="w.keep"):
    """Leave a step's answer as it is (a resumed draft, a step reached again) and go on."""

    pledge: int
    step: str


@dataclass(frozen=True)
class NoBudget(ButtonData, prefix="w.nobudget"):
    """No budget to state."""

    pledge: int


@dataclass(frozen=True)
class TogglePartner(ButtonData, prefix="w.partner"):
    """Add or remove a partner locality."""

    pledge: int
    locality: int


@dataclass(frozen=True)
class PartnersDone(ButtonData, prefix="w.pdone"):
    """No more partners."""

    pledge: int


@dataclass(frozen=True)
class PartnersDoneAs(ButtonData, prefix="w.pdone2"):
    """No more partners, and how the pledge is shared: `common` (one text) or `partnership`."""

    pledge: int
    kind: str


@dataclass(frozen=True)
class AddOtherPartner(ButtonData, prefix="w.padd"):
    """Add the name last typed at the partners step as a partner of this kind."""

    pledge: int
    kind: str


@dataclass(frozen=True)
class RemoveOtherPartner(ButtonData, prefix="w.pdel"):
    """Take a partner of another kind off the pledge: its place in the list, and a check of
    its name, so that a second tap never takes off the partner that moved into that place."""

    pledge: int
    index: int
    check: int


@dataclass(frozen=True)
class ChoosePledgeType(ButtonData, prefix="w.type"):
    """Individual, common, in partnership, or matching another pledge."""

    pledge: int
    kind: str


@dataclass(frozen=True)
class ToggleMultistakeholder(ButtonData, prefix="w.msp"):
    """Choose or unchoose one of the forum's multistakeholder pledges: its place in the
    forum's list and a check of its name (the list may change between showing and tapping)."""

    pledge: int
    index: int
    check: int


def name_check(name: str) -> int:
    """A short number that tells one name from another in button data (64 bytes at most)."""
    return zlib.crc32(name.encode()) % 100_000


@dataclass(frozen=True)
class MultistakeholderDone(ButtonData, prefix="w.mspdone"):
    """No more multistakeholder pledges: back to the review card."""

    pledge: int


@dataclass(frozen=True)
class Endorsed(ButtonData, prefix="w.mmd"):
    """Whether the pledge's locality endorsed the Marrakech Mayors Declaration, answered
    over the answer the card showed (`was`: "u" unsaid, "y", "n")."""

    pledge: int
    endorsed: bool
    was: str


@dataclass(frozen=True)
class ChangeEndorsement(ButtonData, prefix="w.mmdch"):
    """Ask the Marrakech Mayors Declaration question again, to correct its answer."""

    pledge: int


@dataclass(frozen=True)
class ChooseScope(ButtonData, prefix="w.scope"):
    """Where the pledge acts: local, regional, national or international."""

    pledge: int
    scope: str


@dataclass(frozen=True)
class UseContact(ButtonData, prefix="w.contact"):
    """The contact of the person's previous pledge, for this one too."""

    pledge: int


@dataclass(frozen=True)
class PickDate(ButtonData, prefix="w.date"):
    """One reading of a typed date that had two; `day` is ISO (2027-01-31)."""

    pledge: int
    day: str


@dataclass(frozen=True)
class EditField(ButtonData, prefix="w.edit"):
    """Change one field from the review card."""

    pledge: int
    step: str


@dataclass(frozen=True)
class Submit(ButtonData, prefix="w.submit"):
    pledge: int


@dataclass(frozen=True)
class SaveDraft(ButtonData, prefix="w.save"):
    pledge: int


@dataclass(frozen=True)
class Discard(ButtonData, prefix="w.discard"):
    """Cancel the pledge: asks first."""

    pledge: int


@dataclass(frozen=True)
class ConfirmDiscard(ButtonData, prefix="w.discardyes"):
    pledge: int


@dataclass(frozen=True)
class BackToReview(ButtonData, prefix="w.back"):
    """Do not cancel: the review card again."""

    pledge: int


@dataclass(frozen=True)
class FilesDone(ButtonData, prefix="w.fdone"):
    """No more documents: back to the review card."""

    pledge: int


@dataclass(frozen=True)
class SendAttachment(ButtonData, prefix="w.fget"):
    """Send one of the pledge's documents back."""

    pledge: int
    attachment: int


@dataclass(frozen=True)
class RemoveAttachment(ButtonData, prefix="w.fdel"):
    """Take one document off the pledge."""

    pledge: int
    attachment: int


# ---------------------------------------------------------------- what a field is


@dataclass(frozen=True)
class Prompt:
    """A question: its text and its buttons."""

    text: Html
    keyboard: InlineKeyboardMarkup | None


@dataclass(frozen=True)
class FieldContext:
    """What a field's question or its reading of an answer works from."""

    field: Field
    t: Translator
    session: AsyncSession
    pledge: Pledge
    data: Mapping[str, Any]  # the step's stored state (partners found by a search)

    @property
    def pledge_id(self) -> int:
        assert self.pledge.id is not None
        return self.pledge.id


@dataclass(frozen=True)
class Accept:
    """A good answer: these changes are saved, and the wizard moves on."""

    changes: dict[str, Any]


@dataclass(frozen=True)
class Refuse:
    """An answer not taken: why (or, for a date with two readings, which one was meant, with a
    button each); the step stays."""

    text: Html
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class AskAgain:
    """An answer that changes only what the step shows (partners found): the question again,
    with this as the step's stored state."""

    data: dict[str, Any]


Reading = Accept | Refuse | AskAgain
Ask = Callable[[FieldContext], Awaitable[Prompt]]
Read = Callable[[FieldContext, str], Awaitable[Reading]]
PledgeTest = Callable[[Pledge], bool]


@dataclass(frozen=True)
class Choices:
    """A multi-select field's options: the pledge attribute the chosen codes go to, the question
    (untranslated), the options, and a button's option read back as the value stored (None
    when it is not an option)."""

    attribute: str
    question: str
    options: Callable[[Translator], list[Option]]
    value: Callable[[str], str | int | None]
    optional: bool = False  # Done with nothing chosen is an answer (refugee situations)


def _always(pledge: Pledge) -> bool:
    return True


def _never(pledge: Pledge) -> bool:
    return False


@dataclass(frozen=True)
class Field:
    """One question of the wizard, declared once."""

    name: str  # the step's code, stored in the conversation state and as a draft's step
    label: str  # its name in headers and edit buttons (untranslated)
    ask: Ask  # the question below the header, with the field's current answer and buttons
    read: Read | None = None  # a typed answer, read; None: answered with buttons only
    applies: PledgeTest = _always  # whether the pledge has this field at all
    missing: PledgeTest = _never  # a required answer not given yet (optional fields: never)
    choices: Choices | None = None  # a multi-select field's options
    # Its answer is a date, so the buttons offered for a date with two readings answer it too.
    reads_date: bool = False
    # Asked on the first walk through the wizard; False: only from the review card (documents
    # and a link, which most pledges add later or never).
    first_pass: bool = True

    def is_missing(self, pledge: Pledge) -> bool:
        """Whether the pledge still lacks an answer it needs here."""
        return self.applies(pledge) and self.missing(pledge)


# ---------------------------------------------------------------- questions and readings


def _now_line(t: Translator, value: str | None) -> Html:
    return t.gettext("Now: <i>%(value)s</i>", value=value) if value else Html("")


def _join(*parts: Html) -> Html:
    return Html("\n".join(p for p in parts if p))


def date_example(t: Translator) -> str:
    sample = date(date.today().year + 1, 1, 31)
    return t.plain(
        "%(local)s or %(iso)s", local=t.date(sample, format="short"), iso=sample.isoformat()
    )


def budget_example(t: Translator) -> str:
    return f"{t.number(250000)} EUR"


async def _ask_forum(c: FieldContext) -> Prompt:
    """Which open forum the pledge is for."""
    t, pid = c.t, c.pledge_id
    forums = await list_open_forums(session=c.session)
    options = [Option(str(f.id), forum_name(f, t.language)) for f in forums]
    return Prompt(
        t.gettext("Which forum is this pledge for?"),
        choice_keyboard(options, action=lambda code: ChooseForum(pid, int(code))),
    )


async def _ask_compacts(c: FieldContext) -> Prompt:
    """GCM, GCR or both."""
    t, pid, pledge = c.t, c.pledge_id, c.pledge
    options = [
        Option(Compact.GCM.value, t.plain("Global Compact for Migration (GCM)")),
        Option(Compact.GCR.value, t.plain("Global Compact on Refugees (GCR)")),
        Option("both", t.plain("Both, in unison")),
    ]
    return Prompt(
        _join(
            t.gettext("Which compact does this pledge serve?"),
            _now_line(t, compacts_text(t, pledge.compacts) if pledge.compacts else None),
        ),
        choice_keyboard(options, action=lambda code: ChooseCompacts(pid, code)),
    )


async def _ask_title(c: FieldContext) -> Prompt:
    """The title, in a few words."""
    t = c.t
    return Prompt(
        _join(
            t.gettext(
                "Send the pledge's title, in a few words (up to %(limit)s characters).",
                limit=t.number(TITLE_LIMITS[1]),
            ),
            _now_line(t, c.pledge.title),
        ),
        None,
    )


async def _read_title(c: FieldContext, text: str) -> Reading:
    """A title within its limits, its spacing tidied."""
    problem = check_name(text, minimum=TITLE_LIMITS[0], maximum=TITLE_LIMITS[1])
    if problem:
        return Refuse(problem_text(c.t, problem))
    return Accept({"title": " ".join(text.split())})


@dataclass(frozen=True)
class DescriptionLimits:
    """How long a description may be, and the forum whose pledge form set it (None: ours)."""

    minimum: int
    maximum: int
    forum: str | None


async def description_limits(c: FieldContext) -> DescriptionLimits:
    """The pledge's forum's limits where it sets them (UNN's form asks 300–3,000), else ours."""
    forum = await get_forum(session=c.session, forum_id=c.pledge.forum_id or 0)
    if forum is None or (forum.description_min is None and forum.description_max is None):
        return DescriptionLimits(*DESCRIPTION_LIMITS, None)
    return DescriptionLimits(
        forum.description_min or DESCRIPTION_LIMITS[0],
        min(forum.description_max or MAX_DESCRIPTION, MAX_DESCRIPTION),
        forum_name(forum, c.t.language),
    )


async def _ask_description(c: FieldContext) -> Prompt:
    """What the government will do, for whom and how."""
    t, description = c.t, c.pledge.description
    limits = await description_limits(c)
    if limits.forum is None:
        question = t.gettext(
            "Describe the pledge: what your government will do, for whom and how "
            "(up to %(limit)s characters).",
            limit=t.number(limits.maximum),
        )
    else:
        question = t.gettext(
            "Describe the pledge: what your government will do, for whom and how, in "
            "%(minimum)s to %(limit)s characters: the pledge form of %(forum)s asks for that.",
            minimum=t.number(limits.minimum),
            limit=t.number(limits.maximum),
            forum=limits.forum,
        )
    return Prompt(
        _join(question, _now_line(t, description[:300] + ("…" if len(description) > 300 else ""))),
        None,
    )


async def _read_description(c: FieldContext, text: str) -> Reading:
    """A description within its limits, kept as typed (line breaks and all)."""
    limits = await description_limits(c)
    problem = check_length(text, minimum=limits.minimum, maximum=limits.maximum)
    if problem:
        refused = problem_text(c.t, problem)
        if limits.forum is not None and problem.code == "short":
            refused = _join(
                refused,
                c.t.gettext(
                    "The pledge form of %(forum)s asks for at least this much, so that the "
                    "secretariat does not have to ask you for more.",
                    forum=limits.forum,
                ),
            )
        return Refuse(refused)
    return Accept({"description": text})


def _selected(c: FieldContext) -> list[str]:
    assert c.field.choices is not None
    return [str(v) for v in getattr(c.pledge, c.field.choices.attribute)]


def choices_keyboard(c: FieldContext, page: int) -> InlineKeyboardMarkup:
    """A multi-select field's options with the chosen ones marked, a page at a time, and Done."""
    assert c.field.choices is not None
    t, pid, step = c.t, c.pledge_id, c.field.name
    options, selected = c.field.choices.options(t), _selected(c)
    pages = page_count(len(options), OBJECTIVES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    shown = options[page * OBJECTIVES_PER_PAGE : (page + 1) * OBJECTIVES_PER_PAGE]
    buttons = [
        button(
            (SELECTED_MARK if o.code in selected else "") + o.label,
            ToggleOption(pid, step, o.code, page),
        )
        for o in shown
    ]
    keyboard = rows(buttons, 1)
    pager = pager_row(t, page=page, pages=pages, to_page=lambda to: TurnPage(pid, step, to))
    if pager:
        keyboard.append(pager)
    done = t.plain("Done (%(count)s chosen)", count=t.number(len(selected)))
    keyboard.append([button(done, DoneChoosing(pid, step))])
    return InlineKeyboardMarkup(keyboard)


async def _ask_choices(c: FieldContext) -> Prompt:
    """A multi-select question and its options."""
    assert c.field.choices is not None
    return Prompt(c.t.gettext(c.field.choices.question), choices_keyboard(c, c.data.get("page", 0)))


def _objectives(compact: str) -> Choices:
    """A compact's objectives, stored as their numbers."""

    def options(t: Translator) -> list[Option]:
        return [Option(str(n), objective_label(t, compact, n)) for n in OBJECTIVES[compact]]

    def value(raw: str) -> int | None:
        number = int(raw) if raw.isdigit() else 0
        return number if number in OBJECTIVES[compact] else None

    question = {
        Compact.GCM.value: N_(
            "Which objectives of the Global Compact for Migration does the "
            "pledge advance? Choose at least one; tap again to unselect."
        ),
        Compact.GCR.value: N_(
            "Which objectives of the Global Compact on Refugees does the pledge "
            "advance? Choose at least one; tap again to unselect."
        ),
    }[compact]
    return Choices(f"{compact}_objectives", question, options, value)


def _codes(
    attribute: str, labels: dict[str, str], question: str, *, optional: bool = False
) -> Choices:
    """Choices among codes (support types, target groups), stored as the codes."""

    def options(t: Translator) -> list[Option]:
        return [Option(code, label(t, labels, code)) for code in labels]

    def value(raw: str) -> str | None:
        return raw if raw in labels else None

    return Choices(attribute, question, options, value, optional)


def _serves(compact: Compact) -> PledgeTest:
    """Objective steps apply only to the compacts the pledge serves."""
    return lambda pledge: compact.value in pledge.compacts


def _multi(name: str, label_: str, choices: Choices, applies: PledgeTest = _always) -> Field:
    """A multi-select field: at least one option, chosen with toggles and Done."""
    return Field(
        name,
        label_,
        _ask_choices,
        applies=applies,
        missing=lambda pledge: not getattr(pledge, choices.attribute),
        choices=choices,
    )


async def _read_date(c: FieldContext, text: str) -> date | Refuse:
    """The date typed, or why not; a date with two readings is asked back with a button each."""
    t = c.t
    parsed = read_date(text, t.locale)
    if isinstance(parsed, AmbiguousDate):
        return Refuse(*which_date(t, parsed, lambda d: PickDate(c.pledge_id, d.isoformat())))
    if parsed is None:
        return Refuse(
            t.gettext(
                "I could not read that date. Please send it like %(example)s.",
                example=date_example(t),
            )
        )
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return Refuse(
            t.gettext(
                "Please send a date between %(first)s and %(last)s.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            )
        )
    return parsed


async def _ask_start(c: FieldContext) -> Prompt:
    """When the pledge starts."""
    t, starts_on = c.t, c.pledge.starts_on
    return Prompt(
        _join(
            t.gettext(
                "When does the pledge start? Send a date, like %(example)s.",
                example=date_example(t),
            ),
            _now_line(t, t.date(starts_on) if starts_on else None),
        ),
        None,
    )


async def _read_start(c: FieldContext, text: str) -> Reading:
    """A start date; an end before it is cleared, so the end is asked again."""
    parsed = await _read_date(c, text)
    if isinstance(parsed, Refuse):
        return parsed
    changes: dict[str, Any] = {"starts_on": parsed}
    if c.pledge.ends_on is not None and c.pledge.ends_on < parsed:
        changes["ends_on"] = None  # asked again: an end before the start cannot stand
    return Accept(changes)


async def _ask_end(c: FieldContext) -> Prompt:
    """When the pledge ends, or Ongoing."""
    t, pledge = c.t, c.pledge
    keyboard = InlineKeyboardMarkup(
        [[button(t.plain("Ongoing, no end date"), Ongoing(c.pledge_id))]]
    )
    now = (
        t.plain("ongoing")
        if pledge.ongoing
        else (t.date(pledge.ends_on) if pledge.ends_on else None)
    )
    return Prompt(
        _join(
            t.gettext(
                "When does it end? Send a date, like %(example)s, or tap Ongoing.",
                example=date_example(t),
            ),
            _now_line(t, now),
        ),
        keyboard,
    )


async def _read_end(c: FieldContext, text: str) -> Reading:
    """An end date, on or after the start."""
    parsed = await _read_date(c, text)
    if isinstance(parsed, Refuse):
        return parsed
    starts_on = c.pledge.starts_on
    if starts_on and parsed < starts_on:
        return Refuse(
            c.t.gettext(
                "The end date must be on or after the start date, %(start)s.",
                start=c.t.date(starts_on),
            )
        )
    return Accept({"ends_on": parsed, "ongoing": False})


async def _ask_budget(c: FieldContext) -> Prompt:
    """An amount and its currency, or No budget."""
    t, pledge = c.t, c.pledge
    keyboard = InlineKeyboardMarkup(
        [[button(t.plain("No budget to state"), NoBudget(c.pledge_id))]]
    )
    now = (
        t.money(pledge.amount, pledge.currency)
        if pledge.amount is not None and pledge.currency
        else None
    )
    return Prompt(
        _join(
            t.gettext(
                "Does the pledge have a budget? Send the amount and its currency code, like "
                "%(example)s, or tap No budget.",
                example=budget_example(t),
            ),
            _now_line(t, now),
        ),
        keyboard,
    )


async def _read_budget(c: FieldContext, text: str) -> Reading:
    """An amount above zero with an ISO 4217 currency code."""
    money = read_money(text, c.t.locale)
    if money is None:
        return Refuse(
            c.t.gettext(
                "Please send an amount above zero and a three-letter currency code "
                "(ISO 4217), like %(example)s.",
                example=budget_example(c.t),
            )
        )
    return Accept({"amount": money[0], "currency": money[1]})


async def _ask_partners(c: FieldContext) -> Prompt:
    """The partners chosen and the ones last found, each a button that adds or removes it;
    a name typed can also be added as a partner of another kind (a State, a UN agency…)."""
    t, pledge, pid = c.t, c.pledge, c.pledge_id
    partners = await get_localities(session=c.session, ids=pledge.partner_ids)
    results = await get_localities(session=c.session, ids=c.data.get("results", []))
    shown = list({loc.id: loc for loc in [*partners, *results]}.values())
    buttons = [
        button(
            ("✅ " if loc.id in pledge.partner_ids else "") + locality_text(t, loc),
            TogglePartner(pid, loc.id or 0),
        )
        for loc in shown
    ]
    buttons += [
        button(
            "✅ " + other_partner_text(t, other),
            RemoveOtherPartner(pid, i, name_check(other.get("name", ""))),
        )
        for i, other in enumerate(pledge.other_partners)
    ]
    lines = [
        t.gettext(
            "Is this a joint pledge? Send part of a partner's name: a local government "
            "registered here is found for you to tap; any other partner (a State, a UN agency, "
            "an NGO…) is added with its kind. Tap a partner again to remove it."
        )
    ]
    keyboard = rows(buttons, 1)
    typed = str(c.data.get("typed", ""))
    if typed:
        if not results:
            lines.append(
                t.gettext(
                    "No registered local government matches “%(text)s”. Try another "
                    "part of the name, or tap “%(done)s”.",
                    text=typed,
                    done=partners_done_label(t, pledge),
                )
            )
        lines.append(t.gettext("Or add “%(name)s” as:", name=typed))
        kinds = [button(label(t, PARTNER_KINDS, k), AddOtherPartner(pid, k)) for k in PARTNER_KINDS]
        keyboard += rows(kinds, 2)
    return Prompt(_join(*lines), InlineKeyboardMarkup([*keyboard, partners_done_row(t, pledge)]))


def has_partners(pledge: Pledge) -> bool:
    """Whether the pledge is shared with anyone: registered localities or other partners."""
    return bool(pledge.partner_ids or pledge.other_partners)


def partners_done_label(t: Translator, pledge: Pledge) -> str:
    """The button that ends the partners step, as it reads now (texts name it by this)."""
    return t.plain("Done") if has_partners(pledge) else t.plain("No partners")


def partners_done_row(t: Translator, pledge: Pledge) -> list[Any]:
    """'No partners'; once there are partners, two ways to finish that also say how the pledge
    is shared, as the UN forms ask: one common text, or each government's part."""
    pid = pledge.id or 0
    if not has_partners(pledge):
        return [button(partners_done_label(t, pledge), PartnersDone(pid))]
    marks = {pledge.pledge_type: "✅ "}
    return [
        button(
            marks.get(PledgeType.COMMON.value, "") + t.plain("Done · one common text"),
            PartnersDoneAs(pid, PledgeType.COMMON.value),
        ),
        button(
            marks.get(PledgeType.PARTNERSHIP.value, "") + t.plain("Done · in partnership"),
            PartnersDoneAs(pid, PledgeType.PARTNERSHIP.value),
        ),
    ]


async def _search_partners(c: FieldContext, text: str) -> Reading:
    """Part of a partner's name: the localities found are shown to be tapped, and the name
    can be added as a partner of another kind."""
    problem = check_shown(text)
    if problem:
        return Refuse(problem_text(c.t, problem))
    found = await search_localities(session=c.session, text=text, exclude_id=c.pledge.locality_id)
    # A ';' would split the name in the codes export, where partners are joined with it.
    name = " ".join(text.replace(";", ",").split())[:MAX_PARTNER_NAME]
    return AskAgain({**c.data, "results": [loc.id for loc in found], "typed": name})


async def _ask_scope(c: FieldContext) -> Prompt:
    """Where the pledge acts, one tap; the countries that benefit follow from it."""
    t, pid = c.t, c.pledge_id
    options = [Option(code, label(t, SCOPES, code)) for code in SCOPES]
    return Prompt(
        _join(
            t.gettext(
                "Where will the pledge make a difference? Local, regional and national "
                "pledges benefit your own country; for an international one I will ask which "
                "countries."
            ),
            _now_line(t, scope_text(t, c.pledge) if c.pledge.scope else None),
        ),
        choice_keyboard(options, action=lambda code: ChooseScope(pid, code), columns=2),
    )


def scope_changes(pledge: Pledge, scope: str, home: str) -> dict[str, Any]:
    """A new scope and the countries that go with it: the home country within it, the list
    already given (but not the home country alone) for an international pledge."""
    if scope != Scope.INTERNATIONAL.value:
        return {"scope": scope, "beneficiary_countries": [home]}
    kept = [] if pledge.beneficiary_countries == [home] else pledge.beneficiary_countries
    return {"scope": scope, "beneficiary_countries": kept}


async def _ask_countries(c: FieldContext) -> Prompt:
    """Which countries or refugee situations an international pledge benefits."""
    t = c.t
    example = [country_name(code, t.locale) for code in ("LB", "JO")]
    example.append(label(t, REFUGEE_SITUATIONS, RefugeeSituation.SYRIA.value))
    return Prompt(
        _join(
            t.gettext(
                "Which countries or refugee situations will benefit? Send their names (or "
                "two-letter codes for countries), separated by commas, like %(example)s.",
                example=t.join(example),
            ),
            _now_line(t, beneficiaries_text(t, c.pledge) or None),
        ),
        None,
    )


def situation_named(t: Translator, text: str) -> str | None:
    """The refugee situation a name stands for, in the reader's language or English, with
    case, spaces and punctuation left aside ('syria situation', 'Ситуация в Сирии')."""
    wanted = _letters(text)
    for code, name in REFUGEE_SITUATIONS.items():
        if wanted in (_letters(t.plain(name)), _letters(name)):
            return code
    return None


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


async def _read_countries(c: FieldContext, text: str) -> Reading:
    """Countries by name or code and refugee situations by name; any other part is named
    back."""
    t = c.t
    codes, parts = read_countries(text, t.locale)
    situations: list[str] = []
    unknown: list[str] = []
    for part in parts:
        situation = situation_named(t, part)
        if situation is None:
            unknown.append(part)
        elif situation not in situations:
            situations.append(situation)
    if unknown:
        return Refuse(
            t.gettext(
                "I do not know these as countries or refugee situations: %(unknown)s. Please "
                "write each as a country's name or two-letter code (LB, JO), or a situation "
                "as %(situation)s, separated by commas.",
                unknown=t.join(u[:60] for u in unknown[:5]),
                situation=label(t, REFUGEE_SITUATIONS, RefugeeSituation.SYRIA.value),
            )
        )
    if not codes:  # the UN forms ask which countries, situations or not
        return Refuse(t.gettext("Please name at least one country."))
    if len(codes) > MAX_COUNTRIES:
        return Refuse(
            t.gettext("Please name up to %(limit)s countries.", limit=t.number(MAX_COUNTRIES))
        )
    # Situations chosen on the card stay unless the answer names situations of its own.
    if situations:
        return Accept({"beneficiary_countries": codes, "refugee_situations": situations})
    return Accept({"beneficiary_countries": codes})


async def _ask_contact(c: FieldContext) -> Prompt:
    """Who the UN forms name as the contact: typed once, then offered from the last pledge."""
    t, pid = c.t, c.pledge_id
    previous = await last_contact(session=c.session, member_id=c.pledge.created_by_id)
    keyboard = None
    if previous is not None and previous.id != c.pledge.id:
        text = "👤 " + contact_text(t, previous)
        keyboard = InlineKeyboardMarkup([[button(text[:60], UseContact(pid))]])
    return Prompt(
        _join(
            t.gettext(
                "Who is the contact person for this pledge? Send their name, title and "
                "e-mail, one per line, and a phone number if you wish."
            ),
            t.gettext("Like: %(example)s", example="Ana Silva, Deputy Mayor, ana@lyon.fr")
            if keyboard is None
            else Html(""),
            _now_line(t, contact_text(t, c.pledge) if c.pledge.contact_email else None),
        ),
        keyboard,
    )


async def _read_contact(c: FieldContext, text: str) -> Reading:
    """A name, a title and a valid e-mail address (a phone if given), in any order."""
    t = c.t
    contact = read_contact(text)
    shown = [] if isinstance(contact, list) else [contact.name, contact.title]
    problem = next((p for p in map(check_shown, shown) if p), None)
    if problem:
        return Refuse(problem_text(t, problem))
    if isinstance(contact, list):
        names = {
            "name": t.plain("a name"),
            "title": t.plain("a title (Mayor, Head of Social Affairs…)"),
            "email": t.plain("a valid e-mail address"),
        }
        return Refuse(
            t.gettext(
                "I still need %(missing)s, each on its own line.",
                missing=t.join(names[m] for m in contact),
            )
        )
    return Accept(
        {
            "contact_name": contact.name,
            "contact_title": contact.title,
            "contact_email": contact.email,
            "contact_phone": contact.phone,
        }
    )


# A project page: a web address with a host that has a dot in it, nothing in between spaces.
WEB_ADDRESS = re.compile(r"(?i)(https?://)?([a-z0-9-]+\.)+[a-z]{2,}(:\d+)?([/?#]\S*)?")
MAX_URL = 500


def kept_kinds(t: Translator) -> str:
    """The kinds of document kept (storage.attachments.KEPT_TYPES), as the documents step's
    question and the refusal of any other kind both name them."""
    return t.plain("PDF, Word, Excel, PowerPoint, OpenDocument, text, CSV, pictures")


async def _ask_files(c: FieldContext) -> Prompt:
    """A link to the project's page and documents sent from the phone, each listed with a
    button to get it back and one to take it off."""
    t, pid = c.t, c.pledge_id
    attachments = await list_attachments(session=c.session, pledge_id=pid)
    buttons: list[list[Any]] = [
        [
            button("📄 " + a.file_name[:40], SendAttachment(pid, a.id or 0)),
            button("🗑", RemoveAttachment(pid, a.id or 0)),
        ]
        for a in attachments
    ]
    buttons.append([button(t.plain("✅ Done"), FilesDone(pid))])
    return Prompt(
        _join(
            t.gettext(
                "Send the address of the project's web page, or documents from your phone "
                "(%(kinds)s), up to %(size)s MB and %(count)s documents.",
                kinds=kept_kinds(t),
                size=t.number(MAX_DOWNLOAD_MB),
                count=t.number(MAX_ATTACHMENTS),
            ),
            _now_line(t, c.pledge.project_url or None),
        ),
        InlineKeyboardMarkup(buttons),
    )


async def _read_link(c: FieldContext, text: str) -> Reading:
    """A web address; one without its scheme is taken as https."""
    address = text.strip()
    if not WEB_ADDRESS.fullmatch(address) or len(address) > MAX_URL:
        return Refuse(
            c.t.gettext(
                "That does not look like a web address. Send one like %(example)s, or send a "
                "document.",
                example="https://www.lyon.fr/accueil",
            )
        )
    if not address.lower().startswith(("http://", "https://")):
        address = "https://" + address
    return Accept({"project_url": address})


# What a matched pledge is named by: a pledgebot reference, or an ID of the UN's platforms
# (GRF-08531 on UNHCR's dashboard, a number on the UN Network on Migration's).
MATCHED_PLEDGE = re.compile(r"(?i)(CLA-\d{4}-\d{4,6}|GRF-\d{1,8}|[A-Z]{0,6}-?\d{1,8})")


async def _ask_pledge_type(c: FieldContext) -> Prompt:
    """The kind of pledge the UN forms ask; a matching pledge names the pledge it matches."""
    t, pid, pledge = c.t, c.pledge_id, c.pledge
    options = [
        Option(code, ("✅ " if code == pledge.pledge_type else "") + label(t, PLEDGE_TYPES, code))
        for code in PLEDGE_TYPES
    ]
    lines = [
        t.gettext(
            "What kind of pledge is it? Common and partnership pledges are shared with the "
            "partners you named; a matching pledge supports another pledge."
        )
    ]
    if pledge.pledge_type == PledgeType.MATCHING.value:
        lines.append(
            t.gettext(
                "Send the reference of the pledge it matches: %(example)s, or its ID on the UN "
                "platform, like %(grf)s.",
                example="CLA-2027-0042",
                grf="GRF-08531",
            )
        )
    lines.append(_now_line(t, pledge.matching_reference or None))
    return Prompt(
        _join(*lines),
        choice_keyboard(options, action=lambda code: ChoosePledgeType(pid, code), columns=1),
    )


async def _read_matched(c: FieldContext, text: str) -> Reading:
    """The pledge a matching pledge matches, by reference or UN platform ID."""
    reference = text.strip().upper()
    if not MATCHED_PLEDGE.fullmatch(reference):
        return Refuse(
            c.t.gettext(
                "That is not a pledge reference. Send one like %(example)s or %(grf)s.",
                example="CLA-2027-0042",
                grf="GRF-08531",
            )
        )
    if looks_like_reference(reference):
        # One of ours: it must be a pledge that exists, and another than this one.
        matched = await get_pledge_by_reference(session=c.session, reference=reference)
        if (
            matched is None
            or matched.id == c.pledge.id
            or matched.state == WorkflowState.WITHDRAWN.value
        ):
            return Refuse(
                c.t.gettext(
                    "There is no other pledge %(reference)s here. Please check the reference, "
                    "or send the pledge's ID on the UN platform.",
                    reference=reference,
                )
            )
    return Accept({"pledge_type": PledgeType.MATCHING.value, "matching_reference": reference})


async def multistakeholder_of(c: FieldContext) -> list[str]:
    """The multistakeholder pledges the pledge's forum lists (GRF's), none for other forums."""
    forum = await get_forum(session=c.session, forum_id=c.pledge.forum_id or 0)
    return list(forum.multistakeholder_pledges) if forum is not None else []


async def _ask_multistakeholder(c: FieldContext) -> Prompt:
    """Which of the forum's multistakeholder pledges this pledge contributes to, if any."""
    t, pid = c.t, c.pledge_id
    names = await multistakeholder_of(c)
    chosen = set(c.pledge.multistakeholder_pledges)
    buttons = [
        [
            button(
                ("✅ " if name in chosen else "") + name[:60],
                ToggleMultistakeholder(pid, i, name_check(name)),
            )
        ]
        for i, name in enumerate(names)
    ]
    buttons.append([button(t.plain("✅ Done"), MultistakeholderDone(pid))])
    return Prompt(
        t.gettext(
            "Does the pledge contribute to any of this forum's multistakeholder pledges? Tap "
            "each one it does, then Done."
        ),
        InlineKeyboardMarkup(buttons),
    )


def _drafting(pledge: Pledge) -> bool:
    """Whether the pledge is a draft: scope and contact are required of a draft, but a pledge
    submitted before they were asked is not made to answer them when one field is edited."""
    return pledge.state == WorkflowState.DRAFT.value


# ---------------------------------------------------------------- the fields, in order

FIELDS: tuple[Field, ...] = (
    Field(FORUM, N_("Forum"), _ask_forum, missing=lambda p: p.forum_id is None),
    Field(COMPACTS, N_("Compacts"), _ask_compacts, missing=lambda p: not p.compacts),
    Field(TITLE, N_("Title"), _ask_title, _read_title, missing=lambda p: not p.title),
    Field(
        DESCRIPTION,
        N_("Description"),
        _ask_description,
        _read_description,
        missing=lambda p: not p.description,
    ),
    _multi(GCM, N_("GCM objectives"), _objectives(Compact.GCM.value), _serves(Compact.GCM)),
    _multi(GCR, N_("GCR objectives"), _objectives(Compact.GCR.value), _serves(Compact.GCR)),
    _multi(
        SUPPORT,
        N_("Support types"),
        _codes(
            "support_types",
            SUPPORT_TYPES,
            N_("What kind of support does the pledge offer? Choose all that apply."),
        ),
    ),
    _multi(
        GROUPS,
        N_("Target groups"),
        _codes("target_groups", TARGET_GROUPS, N_("Who will benefit? Choose all that apply.")),
    ),
    Field(
        START,
        N_("Start date"),
        _ask_start,
        _read_start,
        missing=lambda p: p.starts_on is None,
        reads_date=True,
    ),
    Field(
        END,
        N_("End date"),
        _ask_end,
        _read_end,
        missing=lambda p: p.ends_on is None and not p.ongoing,
        reads_date=True,
    ),
    Field(BUDGET, N_("Budget"), _ask_budget, _read_budget),  # optional
    Field(PARTNERS, N_("Partners"), _ask_partners, _search_partners),  # optional
    Field(SCOPE, N_("Scope"), _ask_scope, missing=lambda p: not p.scope and _drafting(p)),
    Field(
        COUNTRIES,
        N_("Countries that benefit"),
        _ask_countries,
        _read_countries,
        applies=lambda p: p.scope == Scope.INTERNATIONAL.value,
        missing=lambda p: not p.beneficiary_countries,
    ),
    Field(
        SITUATIONS,
        N_("Refugee situations"),
        _ask_choices,
        # A pledge that named situations and then left the refugee compact can still take
        # them off.
        applies=lambda p: _serves(Compact.GCR)(p) or bool(p.refugee_situations),
        first_pass=False,  # the GRF form asks, optionally; the review card offers it
        choices=_codes(
            "refugee_situations",
            REFUGEE_SITUATIONS,
            N_(
                "Which refugee situations does the pledge address, if any? Tap each one, "
                "then Done; Done with none chosen is fine."
            ),
            optional=True,
        ),
    ),
    Field(
        CONTACT,
        N_("Contact"),
        _ask_contact,
        _read_contact,
        missing=lambda p: not p.contact_email and _drafting(p),
    ),
    Field(
        PLEDGE_TYPE,
        N_("Pledge type"),
        _ask_pledge_type,
        _read_matched,
        first_pass=False,  # the partners step answers it for nearly every pledge
        missing=lambda p: p.pledge_type == PledgeType.MATCHING.value and not p.matching_reference,
    ),
    Field(
        MULTISTAKEHOLDER,
        N_("Multistakeholder pledges"),
        _ask_multistakeholder,
        first_pass=False,  # a GRF matter most pledges leave aside; the review card says so
        applies=lambda p: p.forum_id is not None,
    ),
    Field(FILES, N_("Link and documents"), _ask_files, _read_link, first_pass=False),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
STEPS = tuple(FIELDS_BY_NAME)


# ---------------------------------------------------------------- walking the fields


def field_of(step: str) -> Field | None:
    """The field a step asks for; None for the review, the discard question or a forged name."""
    return FIELDS_BY_NAME.get(step)


def step_name(t: Translator, step: str) -> str:
    """A step's name in the reader's language."""
    return t.plain(FIELDS_BY_NAME[step].label)


def applies(step: str, pledge: Pledge) -> bool:
    """Whether the pledge has this step (objectives only for the compacts it serves)."""
    field = field_of(step)
    return field is None or field.applies(pledge)


def missing_steps(pledge: Pledge) -> list[str]:
    """The steps whose required answer is still absent, in order."""
    return [f.name for f in FIELDS if f.is_missing(pledge)]


def next_step(pledge: Pledge, current: str, *, revisit: bool) -> str:
    """The step after `current`: the next one on a first pass, the next gap on a revisit."""
    for field in FIELDS[STEPS.index(current) + 1 :]:
        if not field.applies(pledge) or not field.first_pass:
            continue
        if not revisit or field.is_missing(pledge):
            return field.name
    if revisit:
        gaps = missing_steps(pledge)
        return gaps[0] if gaps else REVIEW
    return REVIEW


def step_position(pledge: Pledge, step: str) -> tuple[int, int]:
    # Until the compacts are chosen, count both objective steps: the total only ever shrinks.
    shown = [f.name for f in FIELDS if f.first_pass and (f.applies(pledge) or not pledge.compacts)]
    return (shown.index(step) + 1 if step in shown else len(shown)), len(shown)


def header(t: Translator, pledge: Pledge, step: str, flow: str) -> Html:
    """'Step n of m · Field' in the wizard, 'Change: Field' when editing a submitted pledge."""
    if flow == EDIT or not FIELDS_BY_NAME[step].first_pass:  # not one of the numbered steps
        return t.gettext("<b>Change: %(field)s</b>", field=step_name(t, step))
    number, total = step_position(pledge, step)
    return t.gettext(
        "<b>Step %(number)s of %(total)s · %(field)s</b>",
        number=t.number(number),
        total=t.number(total),
        field=step_name(t, step),
    )


def context(
    t: Translator, session: AsyncSession, pledge: Pledge, step: str, data: Mapping[str, Any]
) -> FieldContext:
    """What the step's field asks and reads with."""
    field = field_of(step)
    if field is None:
        raise ValueError(f"unknown step {step!r}")
    return FieldContext(field, t, session, pledge, data)


async def build_prompt(
    t: Translator,
    session: AsyncSession,
    pledge: Pledge,
    step: str,
    flow: str,
    data: Mapping[str, Any],
) -> Prompt:
    """The question for a step under its header, with its current answer and its buttons;
    in the wizard, a step already answered offers to keep its answer."""
    c = context(t, session, pledge, step, data)
    asked = await c.field.ask(c)
    keyboard = asked.keyboard
    if flow == WIZARD and step in KEEPABLE and not c.field.is_missing(pledge):
        keep = [button("↩️ " + t.plain("Keep as it is"), KeepAnswer(c.pledge_id, step))]
        keyboard = InlineKeyboardMarkup([*(keyboard.inline_keyboard if keyboard else ()), keep])
    return Prompt(_join(header(t, pledge, step, flow), asked.text), keyboard)


def endorsement_answer(locality: Locality) -> str:
    """The locality's answer as a button carries it: "u" unsaid, "y" or "n"."""
    return next(
        code for code, answer in ENDORSEMENT_ANSWERS.items() if answer is locality.endorsed_mmd
    )


def endorsement_question(
    t: Translator, locality: Locality | None, *, again: bool = False
) -> Html | None:
    """Asked once per locality on the review card, for the Call to Local Action (and again
    when someone of the locality asks to correct the answer)."""
    if locality is None or (locality.endorsed_mmd is not None and not again):
        return None
    return t.gettext(
        "🏛 Has %(locality)s endorsed the Marrakech Mayors Declaration (2018)? The Call to Local "
        "Action asks this once; the buttons below answer it for every pledge of your locality.",
        locality=locality.name,
    )


async def hidden_steps(session: AsyncSession, pledge: Pledge) -> frozenset[str]:
    """Steps the pledge has but its forum makes pointless: multistakeholder pledges where the
    forum lists none."""
    forum = await get_forum(session=session, forum_id=pledge.forum_id or 0)
    return (
        frozenset() if forum and forum.multistakeholder_pledges else frozenset({MULTISTAKEHOLDER})
    )


def review_keyboard(
    t: Translator,
    pledge: Pledge,
    *,
    ask_endorsement: bool = False,
    endorsement_was: str = "u",
    hidden: frozenset[str] = frozenset(),
) -> InlineKeyboardMarkup:
    """An edit button for every field, then Submit, Save draft and Cancel (and, until the
    locality has said, whether it endorsed the Marrakech Mayors Declaration)."""
    assert pledge.id is not None
    pid = pledge.id
    edits = [
        button("✏️ " + t.plain(f.label), EditField(pid, f.name))
        for f in FIELDS
        if f.applies(pledge) and f.name not in hidden
    ]
    endorsement = [
        [
            button(t.plain("🏛 Yes, endorsed"), Endorsed(pid, True, endorsement_was)),
            button(t.plain("🏛 Not yet"), Endorsed(pid, False, endorsement_was)),
        ]
    ]
    if not ask_endorsement and endorsement_was != "u":
        edits.append(button("🏛 " + t.plain("Marrakech Declaration"), ChangeEndorsement(pid)))
    return InlineKeyboardMarkup(
        [
            *rows(edits, 2),
            *(endorsement if ask_endorsement else []),
            [
                button(t.plain("✅ Submit"), Submit(pid)),
                button(t.plain("💾 Save draft"), SaveDraft(pid)),
            ],
            [button(t.plain("✖️ Cancel pledge"), Discard(pid))],
        ]
    )
