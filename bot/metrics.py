"""What an operator's monitoring scrapes: the bot's counters, in Prometheus' format.

One `Metrics` per application, in a registry of its own (not prometheus_client's global one),
so that two applications in one process (tests, the simulator) never share counts.
"""

from __future__ import annotations

from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update
from telegram.ext import Application

METRICS_KEY: Final = "metrics"
# Handling an update is a database transaction and a Bot API call or two: tens of milliseconds
# normally, seconds when Telegram or the database is slow.
LATENCY_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The bot's counters and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.updates = Counter(
            "pledgebot_updates", "Updates received, by kind.", ["kind"], registry=registry
        )
        self.update_seconds = Histogram(
            "pledgebot_update_handling_seconds",
            "Time from an update's turn to the end of its handling (replies sent), by kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.bot_api_calls = Counter(
            "pledgebot_bot_api_calls",
            "Bot API calls by method and result (ok, 400, 403, 429, 5xx, timeout, network).",
            ["method", "result"],
            registry=registry,
        )
        self.deliveries = Gauge(
            "pledgebot_deliveries",
            "Reminders and notices in the database, by kind and status (read at scrape time).",
            ["kind", "status"],
            registry=registry,
        )
        self.delivery_outcomes = Counter(
            "pledgebot_delivery_outcomes",
            "Delivery attempts by kind and outcome (sent, retried, failed, skipped).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.database_errors = Counter(
            "pledgebot_database_errors",
            "Failures to reach or use the database, by where they happened.",
            ["where"],
            registry=registry,
        )
        self.conversations = Gauge(
            "pledgebot_conversations_in_progress",
            "Members in the middle of a conversation (a question waiting for their answer).",
            registry=registry,
        )
        self.people_in_hand = Gauge(
            "pledgebot_people_with_updates_in_hand",
            "People whose updates this process is handling or holding in order.",
            registry=registry,
        )

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


def metrics_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Metrics:
    """The metrics an application was built with (any PTB Application: they are in bot_data)."""
    metrics: Metrics = application.bot_data[METRICS_KEY]
    return metrics


def update_kind(update: object) -> str:
    """command, message, button, edited or other: the label an update is counted under."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    if update.edited_message is not None:
        return "edited"
    if update.message is not None:
        text = update.message.text or ""
        return "command" if text.startswith("/") else "message"
    return "other"
