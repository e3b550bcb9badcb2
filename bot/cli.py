"""The `pledgebot` command: run, simulate, invite, db, i18n."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from babel import Locale
from telegram import Bot
from telegram.error import TelegramError

from bot import translations
from bot.logs import configure_logging
from bot.runner import run_bot
from bot.services import open_services
from bot.settings import Settings, SettingsError, load_settings
from conversations.admin import deep_link
from conversations.parsing import read_country
from storage.engine import create_engine, transaction
from storage.invites import create_invite
from storage.localities import find_or_create_locality
from storage.migrate import upgrade, write_revision
from storage.models import Role


class CommandError(Exception):
    """A mistake in how a command was called, explained in one line."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="pledgebot", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling)")
    commands.add_parser("simulate", help="chat with the bot in this terminal, no token needed")

    invite = commands.add_parser("invite", help="create an invitation and print its link")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    invite.add_argument("--locality", help="the official's city, region or association")
    invite.add_argument("--country", help="ISO 3166-1 alpha-2 code of the locality, e.g. FR")
    invite.add_argument("--uses", type=int, default=1, help="how many people may use it")
    invite.add_argument("--expires-days", type=int, default=14)
    invite.add_argument("--quiet", action="store_true", help="print only the start token")

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    revision = db_commands.add_parser("revision", help="autogenerate a migration")
    revision.add_argument("-m", "--message", required=True)

    i18n = commands.add_parser("i18n", help="translation catalogs")
    i18n.add_argument("action", choices=["extract", "update", "compile", "check", "init"])
    i18n.add_argument("--language", help="with init: the new language, e.g. sw")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; configuration errors are one line, not a traceback."""
    args = parser().parse_args(argv)
    try:
        if args.command == "i18n":
            return translations.run(args.action, language=args.language)
        settings = load_settings()
        configure_logging(settings.log_level, secrets=_secrets(settings))
        if args.command == "run":
            asyncio.run(run_bot(settings))
        elif args.command == "simulate":
            asyncio.run(_simulate(settings))
        elif args.command == "invite":
            print(asyncio.run(_invite(settings, args)))
        elif args.command == "db":
            _db(settings, args)
    except (SettingsError, CommandError) as error:
        print(f"pledgebot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _secrets(settings: Settings) -> list[str]:
    token = settings.telegram_bot_token
    return [token.get_secret_value()] if token else []


def _db(settings: Settings, args: argparse.Namespace) -> None:
    if args.db_command == "upgrade":
        asyncio.run(_upgrade(settings))
        print("database is up to date")
    else:
        write_revision(settings.effective_database_url, args.message)


async def _upgrade(settings: Settings) -> None:
    engine = create_engine(settings.effective_database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _invite(settings: Settings, args: argparse.Namespace) -> str:
    role = Role(args.role)
    if args.uses < 1 or args.expires_days < 1:
        raise CommandError("--uses and --expires-days must be at least 1")
    country = None
    if role is Role.OFFICIAL:
        if not args.locality or not args.country:
            raise CommandError("an official's invite needs --locality and --country")
        country = read_country(args.country, Locale.parse("en"))
        if country is None:
            raise CommandError(f"unknown country {args.country!r}: use an ISO code such as FR")
    async with open_services(settings) as services, transaction(services.sessions) as session:
        locality_id = None
        if country is not None:
            locality_id = (
                await find_or_create_locality(session=session, name=args.locality, country=country)
            ).id
        issued = await create_invite(
            session=session,
            role=role,
            locality_id=locality_id,
            uses=args.uses,
            expires_in=timedelta(days=args.expires_days),
        )
    if args.quiet:
        return issued.token
    username = await _bot_username(settings)
    if username is None:
        return (
            f"Invitation for a {role.value} (valid {args.expires_days} days). Open the bot "
            f"and send:\n/start {issued.token}\n(set TELEGRAM_BOT_USERNAME or "
            "TELEGRAM_BOT_TOKEN to get a t.me link)"
        )
    return deep_link(username, issued.token)


async def _bot_username(settings: Settings) -> str | None:
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    if settings.telegram_bot_token is None:
        return None
    base = settings.telegram_api_base_url
    try:
        async with Bot(
            settings.telegram_bot_token.get_secret_value(), base_url=f"{base}/bot"
        ) as bot:
            return bot.username
    except TelegramError as error:
        raise CommandError(f"could not ask Telegram for the bot's name: {error}") from None


async def _simulate(settings: Settings) -> None:
    async with open_services(settings) as services:
        from bot.simulator import simulate

        await simulate(services, _stdin_lines(), print)


async def _stdin_lines() -> AsyncIterator[str]:
    while True:
        try:
            line = await asyncio.to_thread(input, "you> " if sys.stdin.isatty() else "")
        except EOFError:
            return
        yield line


if __name__ == "__main__":
    sys.exit(main())
