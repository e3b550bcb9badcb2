"""The pledge wizard's steps: their order, what each asks, and the buttons it offers.

Pure of Telegram updates: given a translator and a pledge, each function says what to show;
conversations/pledge_wizard.py decides when to show it and saves the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup

from conversations.cards import compacts_text, locality_text
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import Option, button, choice_keyboard, multi_select_keyboard, rows
from conversations.vocabulary import (
    OBJECTIVES,
    SUPPORT_TYPES,
    TARGET_GROUPS,
    label,
    objective_label,
)
from storage.forums import forum_name, list_open_forums
from storage.localities import get_localities
from storage.models import Compact, Pledge

WIZARD = "wizard"
EDIT = "edit"
REVIEW = "review"
DISCARD = "discard"

FORUM, COMPACTS, TITLE, DESCRIPTION = "forum", "compacts", "title", "description"
GCM, GCR, SUPPORT, GROUPS = "gcm", "gcr", "support", "groups"
START, END, BUDGET, PARTNERS = "start", "end", "budget", "partners"
STEPS = (
    FORUM,
    COMPACTS,
    TITLE,
    DESCRIPTION,
    GCM,
    GCR,
    SUPPORT,
    GROUPS,
    START,
    END,
    BUDGET,
    PARTNERS,
)

MULTI_FIELDS = {
    GCM: "gcm_objectives",
    GCR: "gcr_objectives",
    SUPPORT: "support_types",
    GROUPS: "target_groups",
}
TITLE_LIMITS = (3, 200)
DESCRIPTION_LIMITS = (20, 2000)
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_PARTNERS = 20
OBJECTIVES_PER_PAGE = 8

STEP_NAMES = {
    FORUM: N_("Forum"),
    COMPACTS: N_("Compacts"),
    TITLE: N_("Title"),
    DESCRIPTION: N_("Description"),
    GCM: N_("GCM objectives"),
    GCR: N_("GCR objectives"),
    SUPPORT: N_("Support types"),
    GROUPS: N_("Target groups"),
    START: N_("Start date"),
    END: N_("End date"),
    BUDGET: N_("Budget"),
    PARTNERS: N_("Partners"),
}


def step_name(t: Translator, step: str) -> str:
    """A step's name in the reader's language."""
    return t.plain(STEP_NAMES[step])


# ---------------------------------------------------------------- which step comes next


def applies(step: str, pledge: Pledge) -> bool:
    """Objective steps apply only to the compacts the pledge serves."""
    if step == GCM:
        return Compact.GCM.value in pledge.compacts
    if step == GCR:
        return Compact.GCR.value in pledge.compacts
    return True


def is_missing(step: str, pledge: Pledge) -> bool:
    """Whether a required answer is still absent (budget and partners are optional)."""
    missing = {
        FORUM: pledge.forum_id is None,
        COMPACTS: not pledge.compacts,
        TITLE: not pledge.title,
        DESCRIPTION: not pledge.description,
        GCM: not pledge.gcm_objectives,
        GCR: not pledge.gcr_objectives,
        SUPPORT: not pledge.support_types,
        GROUPS: not pledge.target_groups,
        START: pledge.starts_on is None,
        END: pledge.ends_on is None and not pledge.ongoing,
    }
    return applies(step, pledge) and missing.get(step, False)


def missing_steps(pledge: Pledge) -> list[str]:
    return [s for s in STEPS if is_missing(s, pledge)]


def next_step(pledge: Pledge, current: str, *, revisit: bool) -> str:
    """The step after `current`: the next one on a first pass, the next gap on a revisit."""
    for step in STEPS[STEPS.index(current) + 1 :]:
        if applies(step, pledge) and (not revisit or is_missing(step, pledge)):
            return step
    if revisit:
        gaps = missing_steps(pledge)
        return gaps[0] if gaps else REVIEW
    return REVIEW


def step_position(pledge: Pledge, step: str) -> tuple[int, int]:
    # Until the compacts are chosen, count both objective steps: the total only ever shrinks.
    shown = [s for s in STEPS if applies(s, pledge) or not pledge.compacts]
    return (shown.index(step) + 1 if step in shown else len(shown)), len(shown)


# ---------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompt:
    text: Html
    keyboard: InlineKeyboardMarkup | None


def header(t: Translator, pledge: Pledge, step: str, flow: str) -> Html:
    if flow == EDIT:
        return t.gettext("<b>Change: %(field)s</b>", field=step_name(t, step))
    number, total = step_position(pledge, step)
    return t.gettext(
        "<b>Step %(number)s of %(total)s · %(field)s</b>",
        number=t.number(number),
        total=t.number(total),
        field=step_name(t, step),
    )


def _now_line(t: Translator, value: str | None) -> Html:
    return t.gettext("Now: <i>%(value)s</i>", value=value) if value else Html("")


def _join(*parts: Html) -> Html:
    return Html("\n".join(p for p in parts if p))


def _objective_options(t: Translator, compact: str) -> list[Option]:
    return [Option(str(n), objective_label(t, compact, n)) for n in OBJECTIVES[compact]]


def _multi_options(t: Translator, step: str) -> list[Option]:
    if step in (GCM, GCR):
        return _objective_options(t, step)
    labels = SUPPORT_TYPES if step == SUPPORT else TARGET_GROUPS
    return [Option(code, label(t, labels, code)) for code in labels]


def _multi_selected(pledge: Pledge, step: str) -> list[str]:
    return [str(v) for v in getattr(pledge, MULTI_FIELDS[step])]


def multi_keyboard(t: Translator, pledge: Pledge, step: str, page: int) -> InlineKeyboardMarkup:
    assert pledge.id is not None
    return multi_select_keyboard(
        t,
        _multi_options(t, step),
        selected=_multi_selected(pledge, step),
        toggle_action="w.tog",
        page_action="w.pg",
        done_action="w.done",
        args=(pledge.id, step),
        page=page,
        per_page=OBJECTIVES_PER_PAGE,
    )


def date_example(t: Translator) -> str:
    sample = date(date.today().year + 1, 1, 31)
    return t.plain(
        "%(local)s or %(iso)s", local=t.date(sample, format="short"), iso=sample.isoformat()
    )


def budget_example(t: Translator) -> str:
    return f"{t.number(250000)} EUR"


async def build_prompt(
    t: Translator,
    session: AsyncSession,
    pledge: Pledge,
    step: str,
    flow: str,
    data: dict[str, Any],
) -> Prompt:
    """The question for a step, with its current answer and its buttons."""
    assert pledge.id is not None
    head = header(t, pledge, step, flow)
    pid = pledge.id
    if step == FORUM:
        forums = await list_open_forums(session=session)
        options = [Option(str(f.id), forum_name(f, t.language)) for f in forums]
        return Prompt(
            _join(head, t.gettext("Which forum is this pledge for?")),
            choice_keyboard(options, action="w.forum", args=(pid,)),
        )
    if step == COMPACTS:
        options = [
            Option(Compact.GCM.value, t.plain("Global Compact for Migration (GCM)")),
            Option(Compact.GCR.value, t.plain("Global Compact on Refugees (GCR)")),
            Option("both", t.plain("Both, in unison")),
        ]
        return Prompt(
            _join(
                head,
                t.gettext("Which compact does this pledge serve?"),
                _now_line(t, compacts_text(t, pledge.compacts) if pledge.compacts else None),
            ),
            choice_keyboard(options, action="w.compact", args=(pid,)),
        )
    if step == TITLE:
        return Prompt(
            _join(
                head,
                t.gettext(
                    "Send the pledge's title, in a few words (up to %(limit)s characters).",
                    limit=t.number(TITLE_LIMITS[1]),
                ),
                _now_line(t, pledge.title),
            ),
            None,
        )
    if step == DESCRIPTION:
        return Prompt(
            _join(
                head,
                t.gettext(
                    "Describe the pledge: what your government will do, for whom and how "
                    "(up to %(limit)s characters).",
                    limit=t.number(DESCRIPTION_LIMITS[1]),
                ),
                _now_line(
                    t, pledge.description[:300] + ("…" if len(pledge.description) > 300 else "")
                ),
            ),
            None,
        )
    if step in (GCM, GCR):
        question = (
            t.gettext(
                "Which objectives of the Global Compact for Migration does the "
                "pledge advance? Choose at least one; tap again to unselect."
            )
            if step == GCM
            else t.gettext(
                "Which objectives of the Global Compact on Refugees does the pledge "
                "advance? Choose at least one; tap again to unselect."
            )
        )
        return Prompt(_join(head, question), multi_keyboard(t, pledge, step, data.get("page", 0)))
    if step == SUPPORT:
        return Prompt(
            _join(
                head,
                t.gettext("What kind of support does the pledge offer? Choose all that apply."),
            ),
            multi_keyboard(t, pledge, step, 0),
        )
    if step == GROUPS:
        return Prompt(
            _join(head, t.gettext("Who will benefit? Choose all that apply.")),
            multi_keyboard(t, pledge, step, 0),
        )
    if step == START:
        return Prompt(
            _join(
                head,
                t.gettext(
                    "When does the pledge start? Send a date, like %(example)s.",
                    example=date_example(t),
                ),
                _now_line(t, t.date(pledge.starts_on) if pledge.starts_on else None),
            ),
            None,
        )
    if step == END:
        keyboard = InlineKeyboardMarkup(
            [[button(t.plain("Ongoing, no end date"), "w.ongoing", pid)]]
        )
        now = (
            t.plain("ongoing")
            if pledge.ongoing
            else (t.date(pledge.ends_on) if pledge.ends_on else None)
        )
        return Prompt(
            _join(
                head,
                t.gettext(
                    "When does it end? Send a date, like %(example)s, or tap Ongoing.",
                    example=date_example(t),
                ),
                _now_line(t, now),
            ),
            keyboard,
        )
    if step == BUDGET:
        keyboard = InlineKeyboardMarkup(
            [[button(t.plain("No budget to state"), "w.nobudget", pid)]]
        )
        now = (
            t.money(pledge.amount, pledge.currency)
            if pledge.amount is not None and pledge.currency
            else None
        )
        return Prompt(
            _join(
                head,
                t.gettext(
                    "Does the pledge have a budget? Send the amount and its currency code, like "
                    "%(example)s, or tap No budget.",
                    example=budget_example(t),
                ),
                _now_line(t, now),
            ),
            keyboard,
        )
    if step == PARTNERS:
        return await partners_prompt(t, session, pledge, head, data)
    raise ValueError(f"unknown step {step!r}")


async def partners_prompt(
    t: Translator, session: AsyncSession, pledge: Pledge, head: Html, data: dict[str, Any]
) -> Prompt:
    assert pledge.id is not None
    partners = await get_localities(session=session, ids=pledge.partner_ids)
    results = await get_localities(session=session, ids=data.get("results", []))
    shown = list({loc.id: loc for loc in [*partners, *results]}.values())
    buttons = [
        button(
            ("✅ " if loc.id in pledge.partner_ids else "") + locality_text(t, loc),
            "w.partner",
            pledge.id,
            loc.id or 0,
        )
        for loc in shown
    ]
    done = button(
        t.plain("Done") if pledge.partner_ids else t.plain("No partners"), "w.pdone", pledge.id
    )
    body = t.gettext(
        "Is this a joint pledge with other local governments? Send part of a "
        "partner's name to find it, then tap it to add or remove it."
    )
    return Prompt(_join(head, body), InlineKeyboardMarkup([*rows(buttons, 1), [done]]))


def review_keyboard(t: Translator, pledge: Pledge) -> InlineKeyboardMarkup:
    """An edit button for every field, then Submit, Save draft and Cancel."""
    assert pledge.id is not None
    edits = [
        button("✏️ " + step_name(t, s), "w.edit", pledge.id, s) for s in STEPS if applies(s, pledge)
    ]
    return InlineKeyboardMarkup(
        [
            *rows(edits, 2),
            [
                button(t.plain("✅ Submit"), "w.submit", pledge.id),
                button(t.plain("💾 Save draft"), "w.save", pledge.id),
            ],
            [button(t.plain("✖️ Cancel pledge"), "w.discard", pledge.id)],
        ]
    )
