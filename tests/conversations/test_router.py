"""Flows declared once: typed button data, and a router that refuses anything declared twice."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from telegram import Update

from bot.routing import FLOWS, build_router
from conversations.context import PledgeContext
from conversations.flow import MEMBERS, Button, ButtonData, Command, Flow, Router


@dataclass(frozen=True)
class OpenPledge(ButtonData, prefix="t.open"):
    pledge: int
    page: int = 0
    confirm: bool = False


@dataclass(frozen=True)
class Choose(ButtonData, prefix="t.choose"):
    code: str


async def _nothing(update: Update, ctx: PledgeContext) -> None:
    """A step that does nothing."""


async def _pressed(update: Update, ctx: PledgeContext, data: OpenPledge) -> None:
    """A button step that does nothing."""


def test_button_data_comes_back_as_the_same_type() -> None:
    data = OpenPledge(pledge=42, page=3, confirm=True)
    assert data.pack() == "t.open:42:3:1"
    assert OpenPledge.parse(data.pack()) == data
    assert Choose.parse(Choose("gcm").pack()) == Choose("gcm")


@pytest.mark.parametrize(
    "forged",
    ["t.open:42:3", "t.open:x:3:1", "t.open:42:3:yes", "t.choose:42:3:1", "t.open:42:3:1:9", ""],
)
def test_forged_or_outdated_data_is_refused(forged: str) -> None:
    assert OpenPledge.parse(forged) is None


def test_data_telegram_would_refuse_is_refused_when_the_button_is_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Choose("é" * 40).pack()
    with pytest.raises(ValueError, match="may not contain"):
        Choose("a:b").pack()


def _flow(name: str, **kwargs: object) -> Flow:
    return Flow(name=name, **kwargs)  # type: ignore[arg-type]


def test_a_command_declared_twice_stops_the_bot_at_start() -> None:
    twice = Command("status", "Status", MEMBERS, _nothing)
    with pytest.raises(ValueError, match="command /status is declared twice"):
        Router([_flow("a", commands=(twice,)), _flow("b", commands=(twice,))])


def test_a_button_prefix_declared_twice_stops_the_bot_at_start() -> None:
    @dataclass(frozen=True)
    class Again(ButtonData, prefix="t.open"):
        pledge: int

    with pytest.raises(ValueError, match=r"button t\.open is declared twice"):
        Router(
            [
                _flow("a", buttons=(Button(OpenPledge, _pressed),)),
                _flow("b", buttons=(Button(Again, _pressed),)),
            ]
        )


def test_a_conversation_state_claimed_by_two_flows_stops_the_bot_at_start() -> None:
    """Each state (and so each of its steps) has one owner."""
    with pytest.raises(ValueError, match="conversation state wizard is declared twice"):
        Router(
            [
                _flow("a", states=("wizard",), text_steps={"title": _nothing}),
                _flow("b", states=("wizard",)),
            ]
        )


def test_the_bots_own_flows_declare_everything_once() -> None:
    router = build_router()
    assert len(router.flows) == len(FLOWS)
    assert [c.name for c in router.commands_for("official")][:2] == ["pledge", "mypledges"]
    assert "invite" not in {c.name for c in router.commands_for("official")}
    assert {"start", "help", "language", "cancel"} == {c.name for c in router.commands_for(None)}
