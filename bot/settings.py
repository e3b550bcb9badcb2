"""Settings, read once from the environment and `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TELEGRAM_API_BASE_URL = "https://api.telegram.org"
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})  # the only ones setWebhook accepts
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(Exception):
    """A configuration problem, explained in one line."""


class Settings(BaseSettings):
    """Everything pledgebot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_bot_username: str | None = None
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL
    # Messages a second the bot allows itself across all chats (Telegram's ~30, unless the
    # bot's limits were raised); 0 leaves pacing to Telegram's 429s alone.
    telegram_rate_limit: float = Field(default=30.0, ge=0)
    data_dir: Path = Field(default=Path("data"))
    database_url: str | None = None
    default_language: str = "en"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for collectors
    # /healthz, /readyz and /metrics: HOST:PORT, loopback by default; empty turns it off.
    health_listen: str = "127.0.0.1:8081"
    # Webhook mode (`pledgebot run --webhook`): the public HTTPS URL Telegram posts to, the
    # secret it sends with each post, and where this process listens behind the proxy.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1:8443"

    @field_validator("telegram_api_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"must be an http:// or https:// URL with a host, got {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith("sqlite://"):
            value = "sqlite+aiosqlite://" + value.removeprefix("sqlite://")
        elif value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(tuple(f"{d}://" for d in SUPPORTED_DRIVERS)):
            raise ValueError(
                f"must be an sqlite:// or postgresql:// URL, got {value.split(':')[0]!r}"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL: Telegram posts updates only over HTTPS")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise ValueError("must use port 443, 80, 88 or 8443: the only ones Telegram posts to")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("health_listen", "webhook_listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        value = value.strip()
        if value:
            listen_address(value)  # raises ValueError with the reason
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}")
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured database, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'pledgebot.sqlite3').as_posix()}"

    @property
    def health_address(self) -> tuple[str, int] | None:
        """Where /healthz, /readyz and /metrics are served, if anywhere."""
        return listen_address(self.health_listen) if self.health_listen else None

    def require_webhook(self) -> tuple[str, str, tuple[str, int]]:
        """The webhook's public URL, secret and listen address, or a one-line reason."""
        missing = [
            name
            for name, value in (
                ("WEBHOOK_URL", self.webhook_url),
                ("WEBHOOK_SECRET", self.webhook_secret),
            )
            if not value
        ]
        if missing or self.webhook_url is None or self.webhook_secret is None:
            raise SettingsError(
                f"--webhook needs {' and '.join(missing)}: the public https:// URL Telegram "
                "posts to, and a secret of 1-256 characters (A-Z, a-z, 0-9, _, -) it sends back"
            )
        address = listen_address(self.webhook_listen)
        return self.webhook_url, self.webhook_secret.get_secret_value(), address

    def require_token(self) -> str:
        """The bot token, or a one-line explanation of how to set it."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: put it in the environment or in .env "
                "(or try `pledgebot simulate`, which needs no token)"
            )
        return self.telegram_bot_token.get_secret_value()


def listen_address(value: str) -> tuple[str, int]:
    """HOST:PORT (or [IPv6]:PORT) as a host and a port number."""
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT, e.g. 127.0.0.1:8081, got {value!r}")
    return host, int(port)


def load_settings() -> Settings:
    """Read the settings, turning validation errors into one readable line."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from None
