"""The `pledgebot` command: run, simulate, invite, forum, db, i18n."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot import access_cli, translations
from bot.logs import RedactSecrets, configure_logging
from bot.runner import run_bot
from bot.services import open_services
from bot.settings import Settings, SettingsError, load_settings
from conversations.admin import deep_link
from conversations.i18n import LOCALES_DIR
from conversations.parsing import read_country
from conversations.time_zones import read_time_zone
from storage.backup import BackupError, backup_documents, backup_sqlite, documents_beside
from storage.engine import create_engine, transaction
from storage.forums import (
    LANGUAGE_KEY,
    ForumError,
    create_forum,
    forum_name,
    get_forum_by_code,
    list_forums,
    update_forum,
)
from storage.invites import issue_invite
from storage.migrate import upgrade, write_revision
from storage.models import Compact, Forum, Role

# PTB's InvalidToken prints the token it was given: this says which setting instead.
TOKEN_REJECTED = (
    "Telegram rejected TELEGRAM_BOT_TOKEN (401/404): set it to the token @BotFather gave the bot"
)


class CommandError(Exception):
    """A mistake in how a command was called, explained in one line."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="pledgebot", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on WEBHOOK_LISTEN from Telegram posting to WEBHOOK_URL",
    )
    commands.add_parser("simulate", help="chat with the bot in this terminal, no token needed")

    invite = commands.add_parser("invite", help="create an invitation and print its link")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    invite.add_argument("--locality", help="the official's city, region or association")
    invite.add_argument("--country", help="ISO 3166-1 alpha-2 code of the locality, e.g. FR")
    invite.add_argument("--uses", type=int, default=1, help="how many people may use it")
    invite.add_argument("--expires-days", type=int, default=14)
    invite.add_argument("--quiet", action="store_true", help="print only the start token")

    access_cli.add_parsers(commands)

    forum = commands.add_parser("forum", help="list, add and edit forums")
    forum_commands = forum.add_subparsers(dest="forum_command", required=True)
    forum_commands.add_parser("list", help="every forum, one a line")
    add = forum_commands.add_parser("add", help="add a forum")
    add.add_argument("--code", required=True, help="3-16 letters A-Z or digits, e.g. GRF2029")
    _forum_options(add)
    edit = forum_commands.add_parser("edit", help="change some of a forum's values")
    edit.add_argument("code", help="the forum's code")
    _forum_options(edit)

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    revision = db_commands.add_parser("revision", help="autogenerate a migration")
    revision.add_argument("-m", "--message", required=True)
    backup = db_commands.add_parser(
        "backup",
        help="a consistent copy of the SQLite database and the pledges' documents, "
        "while the bot runs",
    )
    backup.add_argument("file", help="the new file to write")

    export = commands.add_parser(
        "export", help="write the pledges to a CSV or XLSX file (codes unless --language)"
    )
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--forum", help="only this forum's pledges, e.g. GRF2027")
    export.add_argument(
        "--language", help="headers and values in this language (e.g. fr) instead of codes"
    )
    export.add_argument(
        "--codes", action="store_true", help="stable codes, as import reads them (the default)"
    )
    export.add_argument(
        "--layout",
        choices=["codes", "unn-gcm", "unhcr-grf"],
        help="the columns of the UN Network on Migration's GCM pledge form or of UNHCR's GRF "
        "pledge form, in their order and English, with only the pledges that form takes "
        "(docs/un-form-layouts.md)",
    )
    export.add_argument(
        "--documents",
        metavar="FOLDER",
        help="also copy each pledge's documents into FOLDER/<reference>/",
    )
    export.add_argument("--output", help="file to write (default pledges-[FORUM-]DATE.EXT)")

    load = commands.add_parser("import", help="load pledges from an export in the codes layout")
    load.add_argument("file", help="a .csv or .xlsx file")
    load.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    load.add_argument(
        "--partial", action="store_true", help="keep the good rows even if others have problems"
    )
    load.add_argument(
        "--language", default="en", help="problems and outcome in this language (e.g. fr)"
    )

    i18n = commands.add_parser("i18n", help="translation catalogs")
    i18n.add_argument("action", choices=["extract", "update", "compile", "check", "init"])
    i18n.add_argument("--language", help="with init: the new language, e.g. sw")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; configuration errors are one line, not a traceback."""
    args = parser().parse_args(argv)
    redaction = RedactSecrets(())  # until the settings name the secrets
    try:
        if args.command == "i18n":
            return translations.run(args.action, language=args.language)
        settings = load_settings()
        redaction = RedactSecrets(_secrets(settings))
        configure_logging(
            settings.log_level, redaction=redaction, json_lines=settings.log_format == "json"
        )
        if args.command == "run":
            asyncio.run(run_bot(settings, webhook=args.webhook))
        elif args.command == "simulate":
            asyncio.run(_simulate(settings))
        elif args.command == "invite":
            print(asyncio.run(_invite(settings, args)))
        elif args.command == "member":
            print(asyncio.run(access_cli.members(settings, args)))
        elif args.command == "invitations":
            print(asyncio.run(access_cli.invitations(settings, args)))
        elif args.command == "forum":
            print(asyncio.run(_forum(settings, args)))
        elif args.command == "export":
            print(asyncio.run(_export(settings, args)))
        elif args.command == "import":
            return asyncio.run(_import(settings, args))
        elif args.command == "db":
            _db(settings, args)
    except (SettingsError, CommandError, access_cli.AccessError) as error:
        print(f"pledgebot: {redaction.redact(str(error))}", file=sys.stderr)
        return 2
    except InvalidToken:
        print(f"pledgebot: {TOKEN_REJECTED}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _secrets(settings: Settings) -> list[str]:
    """The bot token, the webhook secret and the database's password (as written in
    DATABASE_URL, percent-encoded, and as the driver gets it)."""
    secrets = [
        secret.get_secret_value()
        for secret in (settings.telegram_bot_token, settings.webhook_secret)
        if secret
    ]
    password = urlsplit(settings.database_url or "").password
    if password:
        secrets += [password, unquote(password)]
    return [secret for secret in secrets if secret]


def _count(n: int, thing: str) -> str:
    """`1 document`, `2 documents`: the command line speaks English."""
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def _db(settings: Settings, args: argparse.Namespace) -> None:
    if args.db_command == "upgrade":
        asyncio.run(_upgrade(settings))
        print("database is up to date")
    elif args.db_command == "backup":
        try:
            target = Path(args.file)
            if documents_beside(target).exists():
                raise BackupError(f"{documents_beside(target)} exists: choose a new file name")
            size = backup_sqlite(settings.effective_database_url, target)
            documents = backup_documents(settings.data_dir, target)
        except BackupError as error:
            raise CommandError(str(error)) from None
        print(f"backed up to {args.file} ({size:,} bytes)", end="")
        print(
            f" and {_count(documents, 'document')} to {documents_beside(target)}"
            if documents
            else ""
        )
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
        issued = await issue_invite(
            session=session,
            role=role,
            locality=args.locality,
            country=country,
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


def _name_languages() -> list[str]:
    """The languages forum names are kept in: those with a catalog (zh_Hans as zh), and en."""
    found = {p.parent.name.split("_", 1)[0] for p in LOCALES_DIR.glob("*/LC_MESSAGES")}
    return sorted(found | {"en"})


def _forum_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="[LANG=]TEXT",
        help="the name in English, or in LANG (repeatable; LANG= with no text removes it)",
    )
    for language in _name_languages():
        if language != "en":
            command.add_argument(
                f"--name-{language}", metavar="TEXT", help=f"the name in {language}"
            )
    command.add_argument("--location", help="where the forum meets, e.g. Geneva")
    command.add_argument("--compacts", help="gcm, gcr, gcm,gcr or both")
    command.add_argument("--starts", metavar="YYYY-MM-DD", help="first day (none clears it)")
    command.add_argument("--ends", metavar="YYYY-MM-DD", help="last day (none clears it)")
    command.add_argument(
        "--deadline",
        metavar="'YYYY-MM-DD HH:MM'",
        help="pledge deadline, local time in --time-zone (none clears it)",
    )
    command.add_argument(
        "--time-zone",
        help="IANA zone or city of the deadline, e.g. Europe/Zurich; alone, the deadline "
        "keeps its local time",
    )
    command.add_argument("--offsets", metavar="30,14,7,3,1", help="reminder days before it")
    command.add_argument(
        "--multistakeholder",
        metavar="'NAME; NAME'",
        help="the GRF multistakeholder pledges a pledge can contribute to, separated by ';' "
        "(none clears them)",
    )
    command.add_argument(
        "--description-limits",
        metavar="MIN-MAX",
        help="the description's length the forum's pledge form asks, e.g. 300-3000 (none: "
        "pledgebot's own)",
    )
    state = command.add_mutually_exclusive_group()
    state.add_argument("--open", dest="is_open", action="store_true", default=None)
    state.add_argument("--closed", dest="is_open", action="store_false")


async def _forum(settings: Settings, args: argparse.Namespace) -> str:
    try:
        async with open_services(settings) as services, transaction(services.sessions) as session:
            if args.forum_command == "list":
                found = await list_forums(session=session)
                return "\n".join(_forum_line(f) for f in found) or "no forums yet"
            if args.forum_command == "add":
                changes = _forum_changes(args, None)
                if not changes.get("names"):
                    raise CommandError("a new forum needs a name: --name TEXT")
                forum = await create_forum(session=session, code=args.code, **changes)
                return f"added {_forum_line(forum)}"
            existing = await get_forum_by_code(session=session, code=args.code)
            if existing is None:
                raise CommandError(f"there is no forum {args.code!r}: see `pledgebot forum list`")
            changes = _forum_changes(args, existing)
            if not changes:
                raise CommandError("nothing to change: give at least one option")
            await update_forum(session=session, forum=existing, changes=changes)
            return f"changed {_forum_line(existing)}"
    except ForumError as error:
        raise CommandError(str(error)) from None


def _forum_changes(args: argparse.Namespace, forum: Forum | None) -> dict[str, Any]:
    """The values given on the command line, read and ready for storage."""
    changes: dict[str, Any] = {}
    names = _forum_names(args)
    if names:
        changes["names"] = {**(forum.names if forum is not None else {}), **names}
    if args.location is not None:
        changes["location"] = args.location
    if args.compacts is not None:
        changes["compacts"] = _compacts(args.compacts)
    for option, field in (("starts", "starts_on"), ("ends", "ends_on")):
        if getattr(args, option) is not None:
            changes[field] = _day(getattr(args, option), f"--{option}")
    zone: str | None = None
    if args.time_zone is not None:
        found = read_time_zone(args.time_zone, Locale.parse("en"))
        if not isinstance(found, str):
            raise CommandError(
                f"unknown time zone {args.time_zone!r}: use an IANA name such as Europe/Zurich"
            )
        zone = changes["deadline_time_zone"] = found
    current_zone = forum.deadline_time_zone if forum is not None else "UTC"
    if args.deadline is not None:
        changes["pledge_deadline"] = _deadline(args.deadline, zone or current_zone)
    elif zone is not None and forum is not None and forum.pledge_deadline is not None:
        # A corrected time zone: the deadline keeps the local time it was given in.
        wall = forum.pledge_deadline.astimezone(ZoneInfo(current_zone)).replace(tzinfo=None)
        changes["pledge_deadline"] = wall.replace(tzinfo=ZoneInfo(zone))
    if args.offsets is not None:
        try:
            changes["reminder_offsets"] = [int(p) for p in args.offsets.split(",") if p.strip()]
        except ValueError:
            raise CommandError(
                f"--offsets takes whole days like 30,14,7, not {args.offsets!r}"
            ) from None
    if args.multistakeholder is not None:
        given = "" if args.multistakeholder.strip().lower() == "none" else args.multistakeholder
        changes["multistakeholder_pledges"] = [n for n in given.split(";") if n.strip()]
    if args.description_limits is not None:
        changes["description_min"], changes["description_max"] = _limits(args.description_limits)
    if args.is_open is not None:
        changes["is_open"] = args.is_open
    return changes


def _limits(text: str) -> tuple[int | None, int | None]:
    if text.strip().lower() == "none":
        return None, None
    found = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if found is None:
        raise CommandError(f"--description-limits takes MIN-MAX like 300-3000, not {text!r}")
    return int(found[1]), int(found[2])


def _forum_names(args: argparse.Namespace) -> dict[str, str]:
    names: dict[str, str] = {}
    for given in args.name:
        language, separator, text = given.partition("=")
        if separator and LANGUAGE_KEY.match(language):
            names[language] = text
        else:
            names["en"] = given
    for language in _name_languages():
        text = getattr(args, f"name_{language}", None)
        if text is not None:
            names[language] = text
    return names


def _compacts(text: str) -> list[str]:
    chosen = {p.strip().lower() for p in text.split(",") if p.strip()}
    if chosen == {"both"}:
        return [Compact.GCM.value, Compact.GCR.value]
    if not chosen or not chosen <= {c.value for c in Compact}:
        raise CommandError(f"--compacts takes gcm, gcr, gcm,gcr or both, not {text!r}")
    return sorted(chosen)


def _day(text: str, option: str) -> date | None:
    if text.strip().lower() == "none":
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"{option} takes a date like 2027-03-15, not {text!r}") from None


def _deadline(text: str, zone: str) -> datetime | None:
    if text.strip().lower() == "none":
        return None
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise CommandError(f"--deadline takes 'YYYY-MM-DD HH:MM', not {text!r}") from None
    return local.replace(tzinfo=ZoneInfo(zone))


def _forum_line(forum: Forum) -> str:
    """code, open or closed, dates, deadline in its own zone, compacts, reminders, name."""
    dates = f"{forum.starts_on or '?'}..{forum.ends_on or '?'}"
    deadline = "no deadline"
    if forum.pledge_deadline is not None:
        local = forum.pledge_deadline.astimezone(ZoneInfo(forum.deadline_time_zone))
        deadline = f"deadline {local:%Y-%m-%d %H:%M} {forum.deadline_time_zone}"
    offsets = ",".join(str(d) for d in forum.reminder_offsets) or "none"
    return (
        f"{forum.code:<10} {'open' if forum.is_open else 'closed':<6} {dates:<22} {deadline} "
        f"| {'+'.join(forum.compacts) or '-'} | reminders {offsets} | {forum_name(forum, 'en')}"
    )


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
    except InvalidToken:
        raise CommandError(TOKEN_REJECTED) from None
    except TelegramError as error:
        raise CommandError(f"could not ask Telegram for the bot's name: {error}") from None


async def _export(settings: Settings, args: argparse.Namespace) -> str:
    from conversations.export import LabelFormat, file_name
    from conversations.un_forms import LAYOUTS
    from storage.attachments import copy_documents
    from storage.exchange import (
        CODES,
        ExportError,
        ExportFilter,
        RowFormat,
        export_csv,
        export_xlsx,
    )

    if sum(bool(x) for x in (args.codes, args.language, args.layout)) > 1:
        raise CommandError("--codes, --language and --layout exclude each other")
    forum = args.forum.strip().upper() if args.forum else None
    path = Path(args.output or file_name(forum, args.format))
    async with open_services(settings) as services, transaction(services.sessions) as session:
        row_format: RowFormat = CODES
        if args.language:
            if services.catalogs.negotiate(args.language) is None:
                raise CommandError(f"no catalog for language {args.language!r}")
            row_format = LabelFormat(services.catalogs.translator(args.language))
        if args.layout and args.layout != "codes":
            row_format = LAYOUTS[args.layout]
        # A UN form's layout holds only the pledges its form takes: their documents too.
        filters = ExportFilter(forum=forum).within(row_format.selection)
        if args.documents:
            copied = await copy_documents(
                session=session,
                data_dir=services.data_dir,
                to=Path(args.documents),
                filters=filters,
            )
            documents = f"; copied {_count(copied, 'document')} to {args.documents}"
        else:
            documents = ""
        try:
            # A one-shot command: nothing else waits on this event loop.
            with path.open("wb") as out:  # noqa: ASYNC230
                if args.format == "csv":
                    count = await export_csv(
                        session=session, out=out, filters=filters, row_format=row_format
                    )
                    return f"wrote {count} pledges to {path}{documents}"
                counts = await export_xlsx(
                    session=session, out=out, filters=filters, row_format=row_format
                )
                return (
                    f"wrote {counts.pledges} pledges, {counts.reports} progress reports to {path}"
                    f"{documents}"
                )
        except ExportError as error:
            path.unlink(missing_ok=True)  # noqa: ASYNC240
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error}") from None


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    """Print each problem by sheet, row and column; 1 if there was any, 0 otherwise. A file
    that cannot be read at all is one line, and 1."""
    from conversations.imports import not_listed, outcome, problem_line
    from storage.exchange import ImportFileError, import_file

    path = Path(args.file)
    async with open_services(settings) as services:
        if services.catalogs.negotiate(args.language) is None:
            raise CommandError(f"no catalog for language {args.language!r}")
        t = services.catalogs.translator(args.language)
        async with transaction(services.sessions) as session:
            try:
                report = await import_file(
                    session=session, path=path, dry_run=args.dry_run, partial=args.partial
                )
            except ImportFileError as error:
                print(problem_line(t, error.problem, file=path.name))
                return 1
    for problem in report.problems:
        print(problem_line(t, problem, file=path.name))
    if report.problem_count > len(report.problems):
        print(not_listed(t, report.problem_count - len(report.problems)))
    print(
        outcome(
            t,
            written=report.written,
            dry_run=args.dry_run,
            pledges=report.pledges,
            reports=report.reports,
            problems=report.problem_count,
        )
    )
    return 1 if report.problem_count else 0


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
