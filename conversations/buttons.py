"""The typed data of buttons that one flow builds and another answers.

A button used only inside one flow has its data class in that flow's module; the ones here
cross flows (a card built by one module, answered by another), so both can import them without
importing each other. The router checks every prefix, here or in a flow, is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.flow import ButtonData


@dataclass(frozen=True)
class NoOp(ButtonData, prefix="noop"):
    """A button that only shows something (a page number): pressing it does nothing."""


# --- my pledges -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeList(ButtonData, prefix="m.list"):
    """A page of the locality's pledges."""

    page: int


@dataclass(frozen=True)
class OpenPledge(ButtonData, prefix="m.open"):
    """A pledge's card, for its officials; `page` is the list page to go back to."""

    pledge: int
    page: int = 0


@dataclass(frozen=True)
class ReportProgress(ButtonData, prefix="m.progress"):
    pledge: int
    page: int = 0


# --- the pledge wizard ----------------------------------------------------------------------


@dataclass(frozen=True)
class ResumeDraft(ButtonData, prefix="w.resume"):
    """Continue a draft where it stopped."""

    pledge: int


@dataclass(frozen=True)
class NewPledge(ButtonData, prefix="w.new"):
    """Start a new pledge, even with drafts saved."""


# --- review and history ---------------------------------------------------------------------


@dataclass(frozen=True)
class Approve(ButtonData, prefix="r.ok"):
    pledge: int


@dataclass(frozen=True)
class NextReview(ButtonData, prefix="r.next"):
    """After a decision: the pledge that has waited longest for one."""


@dataclass(frozen=True)
class SendBack(ButtonData, prefix="r.back"):
    """Request changes: the coordinator is asked for a comment."""

    pledge: int


@dataclass(frozen=True)
class Deliver(ButtonData, prefix="r.done"):
    """Mark an approved pledge delivered to its forum."""

    pledge: int


@dataclass(frozen=True)
class OpenHistory(ButtonData, prefix="h.open"):
    """A pledge's history from its first page, in a new message."""

    pledge: int


# --- access requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class DecideAccess(ButtonData, prefix="a.dec"):
    """A coordinator's answer to a request for access."""

    request: int
    approve: bool
