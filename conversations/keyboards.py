"""Inline keyboards as pure functions of the translator and the data they show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.buttons import NoOp
from conversations.flow import ButtonData
from conversations.i18n import Html, Translator
from conversations.parsing import AmbiguousDate

MAX_BUTTON_TEXT = 60  # long labels are cut so a button stays readable on a phone
SELECTED_MARK = "✅ "


@dataclass(frozen=True)
class Option:
    """One choosable thing: the label shown and the code it stands for."""

    code: str
    label: str


def button(text: str, data: ButtonData) -> InlineKeyboardButton:
    """A callback button carrying typed data, its label cut to fit a phone screen."""
    if len(text) > MAX_BUTTON_TEXT:
        text = text[: MAX_BUTTON_TEXT - 1] + "…"
    return InlineKeyboardButton(text, callback_data=data.pack())


def rows(buttons: Sequence[InlineKeyboardButton], columns: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out `columns` to a row."""
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


ToPage = Callable[[int], ButtonData]


def pager_row(
    t: Translator, *, page: int, pages: int, to_page: ToPage
) -> list[InlineKeyboardButton]:
    """‹ Previous · page x of y · Next › — only the arrows that lead somewhere; `to_page` makes
    the data of the button that shows a page."""
    if pages <= 1:
        return []
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(button(t.plain("‹ Previous"), to_page(page - 1)))
    row.append(button(t.plain("%(page)s / %(pages)s", page=page + 1, pages=pages), NoOp()))
    if page < pages - 1:
        row.append(button(t.plain("Next ›"), to_page(page + 1)))
    return row


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def choice_keyboard(
    options: Sequence[Option],
    *,
    action: Callable[[str], ButtonData],
    columns: int = 1,
    extra: Sequence[Sequence[InlineKeyboardButton]] = (),
) -> InlineKeyboardMarkup:
    """One button per option; `action` makes the data of the button for an option's code."""
    buttons = [button(o.label, action(o.code)) for o in options]
    return InlineKeyboardMarkup([*rows(buttons, columns), *(list(r) for r in extra)])


def which_date(
    t: Translator, typed: AmbiguousDate, choose: Callable[[date], ButtonData]
) -> tuple[Html, InlineKeyboardMarkup]:
    """A date typed with two readings (05/06/2027 in English), asked back with a button each;
    `choose` makes the data of the button for one reading."""
    keyboard = InlineKeyboardMarkup(
        [[button(t.date(d), choose(d))] for d in (typed.first, typed.second)]
    )
    return t.gettext("Which date do you mean?"), keyboard
