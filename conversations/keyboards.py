"""Inline keyboards as pure functions of the translator and the data they show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.buttons import NoOp
from conversations.callbacks import pack
from conversations.flow import ButtonData
from conversations.i18n import Translator

MAX_BUTTON_TEXT = 60  # long labels are cut so a button stays readable on a phone
SELECTED_MARK = "✅ "


@dataclass(frozen=True)
class Option:
    """One choosable thing: the label shown and the code it stands for."""

    code: str
    label: str


def button(text: str, action: str | ButtonData, *args: int | str) -> InlineKeyboardButton:
    """A callback button whose label is cut to fit a phone screen; it carries typed data (or,
    until every flow has typed data, an action code and positional arguments)."""
    if len(text) > MAX_BUTTON_TEXT:
        text = text[: MAX_BUTTON_TEXT - 1] + "…"
    data = action.pack() if isinstance(action, ButtonData) else pack(action, *args)
    return InlineKeyboardButton(text, callback_data=data)


def rows(buttons: Sequence[InlineKeyboardButton], columns: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out `columns` to a row."""
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


ToPage = Callable[[int], ButtonData]


def pager_row(
    t: Translator,
    *,
    page: int,
    pages: int,
    action: str | ToPage,
    args: Sequence[int | str] = (),
) -> list[InlineKeyboardButton]:
    """‹ Previous · page x of y · Next › — only the arrows that lead somewhere. `action` makes
    the data of the button to a page (or, untyped, is an action code followed by `args`)."""
    if pages <= 1:
        return []

    def to(target: int, label: str) -> InlineKeyboardButton:
        if callable(action):
            return button(label, action(target))
        return button(label, action, *args, target)

    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(to(page - 1, t.plain("‹ Previous")))
    row.append(button(t.plain("%(page)s / %(pages)s", page=page + 1, pages=pages), NoOp()))
    if page < pages - 1:
        row.append(to(page + 1, t.plain("Next ›")))
    return row


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def choice_keyboard(
    options: Sequence[Option],
    *,
    action: str | Callable[[str], ButtonData],
    args: Sequence[int | str] = (),
    columns: int = 1,
    extra: Sequence[Sequence[InlineKeyboardButton]] = (),
) -> InlineKeyboardMarkup:
    """One button per option; `action` makes the data of the button for an option's code (or,
    untyped, pressing one sends (action, *args, code))."""
    buttons = [
        button(o.label, action(o.code))
        if callable(action)
        else button(o.label, action, *args, o.code)
        for o in options
    ]
    return InlineKeyboardMarkup([*rows(buttons, columns), *(list(r) for r in extra)])


def multi_select_keyboard(
    t: Translator,
    options: Sequence[Option],
    *,
    selected: Sequence[str],
    toggle_action: str,
    page_action: str,
    done_action: str,
    args: Sequence[int | str],
    page: int = 0,
    per_page: int = 8,
    columns: int = 1,
) -> InlineKeyboardMarkup:
    """Options with the chosen ones marked, a page at a time, and a Done button."""
    pages = page_count(len(options), per_page)
    page = min(max(page, 0), pages - 1)
    shown = options[page * per_page : (page + 1) * per_page]
    buttons = [
        button(
            (SELECTED_MARK if o.code in selected else "") + o.label,
            toggle_action,
            *args,
            o.code,
            page,
        )
        for o in shown
    ]
    keyboard = rows(buttons, columns)
    pager = pager_row(t, page=page, pages=pages, action=page_action, args=args)
    if pager:
        keyboard.append(pager)
    done = t.plain("Done (%(count)s chosen)", count=t.number(len(selected)))
    keyboard.append([button(done, done_action, *args)])
    return InlineKeyboardMarkup(keyboard)
