"""Every language end to end: the wizard, every message within Telegram's limits, no English."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson, parse_telegram_html, utf16_len
from bot.translations import TEMPLATE
from conversations.cards import pledge_card
from conversations.i18n import LOCALES_DIR, Catalogs
from storage.models import Forum, Locality, Pledge, Role
from storage.pledges import PledgeView
from tests.conftest import Invitations

LANGUAGES = ("ar", "en", "es", "fr", "pt", "ru", "zh_Hans")
# Every catalog there is, so that a language added later is checked without a code change.
CATALOGS = tuple(sorted(p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/*.po")))
TELEGRAM_TAG = {
    "ar": "ar",
    "en": "en",
    "es": "es-419",
    "fr": "fr-CA",
    "pt": "pt-br",
    "ru": "ru",
    "zh_Hans": "zh-hans",
}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# A value as awkward as a person could type: long, with HTML's special characters.
SAMPLE = "Ville <b>&</b> \u0645\u062f\u064a\u0646\u0629 " * 3


def _template() -> list[tuple[str, str | None]]:
    with TEMPLATE.open("rb") as file:
        catalog = read_po(file)
    messages: list[tuple[str, str | None]] = []
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            messages.append((message.id[0], message.id[1]))
        else:
            messages.append((message.id, None))
    return messages


@pytest.mark.parametrize("language", CATALOGS)
def test_every_message_fits_telegram_in_every_language(catalogs: Catalogs, language: str) -> None:
    t = catalogs.translator(language)
    for singular, plural in _template():
        values = {name: SAMPLE for name in PLACEHOLDER.findall(singular + (plural or ""))}
        if plural:
            values.pop("count", None)  # ngettext fills in the number itself
        rendered = (
            [t.ngettext(singular, plural, n, **values) for n in (0, 1, 2, 3, 11, 101)]
            if plural
            else [t.gettext(singular, **values)]
        )
        for text in rendered:
            parsed = parse_telegram_html(text)  # raises where Telegram would refuse the HTML
            assert 0 < utf16_len(parsed.text) <= 4096, (language, singular)


@pytest.mark.parametrize("language", CATALOGS)
def test_the_fullest_pledge_card_fits_one_message(catalogs: Catalogs, language: str) -> None:
    pledge = Pledge(
        id=1,
        reference="CLA-2027-0042",
        locality_id=1,
        forum_id=1,
        compacts=["gcm", "gcr"],
        title="T" * 200,
        description="D" * 2000,
        gcm_objectives=list(range(1, 24)),
        gcr_objectives=[1, 2, 3, 4],
        support_types=["financial", "material", "technical", "pathways", "policy", "other"],
        target_groups=[
            "migrants",
            "refugees",
            "asylum_seekers",
            "idps",
            "stateless",
            "returnees",
            "host_communities",
        ],
        starts_on=date(2027, 1, 1),
        ends_on=date(2030, 12, 31),
        amount=Decimal("999999999999.99"),
        currency="EUR",
        partner_ids=list(range(2, 12)),
        # Every field of the UN forms at its limit too.
        other_partners=[{"name": "O" * 100, "kind": "civil_society"} for _ in range(10)],
        pledge_type="matching",
        matching_reference="M" * 40,
        contact_name="C" * 200,
        contact_title="T" * 200,
        contact_email="e" * 240 + "@example.org",
        contact_phone="+" + "1" * 31,
        scope="international",
        beneficiary_countries=sorted(c for c in Locale.parse("en").territories if len(c) == 2)[:60],
        project_url="https://example.org/" + "u" * 480,
        multistakeholder_pledges=["S" * 200] * 60,
        language="fr",
        created_by_id=1,
    )
    partners = [Locality(id=i, name="N" * 200, name_key="n", country="FR") for i in range(2, 22)]
    view = PledgeView(
        pledge=pledge,
        locality=Locality(id=1, name="L" * 200, name_key="l", country="FR"),
        forum=Forum(id=1, code="GRF2027", names={}),
        partners=partners[:10],
        attachments=tuple(f"{'d' * 196}{i:02d}.pdf" for i in range(10)),
    )
    card = pledge_card(catalogs.translator(language), view)
    assert utf16_len(parse_telegram_html(card).text) <= 4096


def _english_sentences() -> list[str]:
    """English messages without placeholders, long enough that their presence means a leak."""
    return [
        s for s, p in _template() if p is None and "%" not in s and len(s) > 24 and "<" not in s
    ]


async def _press(person: SimulatedPerson, action: str, nth: int = 0) -> list[SentMessage]:
    """Press a button by what it does (its callback action), whatever its label's language."""
    message = next(
        m for m in reversed(person._standin.chat_messages(person.chat_id)) if m.buttons()
    )
    indexes = [
        i
        for i, b in enumerate(message.buttons())
        if (b.callback_data or "").split(":")[0] == action
    ]
    return await person.press(indexes[nth], message=message)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_pledge_edit_and_progress_in_each_language(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations, language: str
) -> None:
    coordinator = standin.person(app, user_id=31, first_name="Coco", language_code="en")
    await coordinator.send("/start " + await invitations.make(Role.COORDINATOR))
    official = standin.person(
        app, user_id=32, first_name="Olga", language_code=TELEGRAM_TAG[language]
    )
    said: list[SentMessage] = []
    said += await official.send(
        "/start " + await invitations.make(Role.OFFICIAL, locality="Lyon", country="FR")
    )
    said += await official.send("/pledge")
    said += await _press(official, "w.forum")
    said += await _press(official, "w.compact", 2)  # both
    said += await official.send("Maisons d'accueil")
    said += await official.send("La ville ouvrira 200 logements pour des familles réfugiées.")
    said += await _press(official, "w.tog")
    said += await _press(official, "w.done")
    said += await _press(official, "w.tog", 1)
    said += await _press(official, "w.done")
    said += await _press(official, "w.tog")
    said += await _press(official, "w.done")
    said += await _press(official, "w.tog", 1)
    said += await _press(official, "w.done")
    said += await official.send("2027-03-01")
    said += await official.send("2028-12-31")
    said += await official.send("250000 EUR")
    said += await official.send("UNHCR")  # no such locality: added with a kind instead
    said += await _press(official, "w.padd", 1)  # a UN agency
    said += await _press(official, "w.pdone2", 1)  # in partnership
    said += await _press(official, "w.scope", 3)  # international: the countries are asked
    said += await official.send("LB, JO")
    said += await official.send("Olga Petrova\nAdjointe au maire\nolga@lyon.example.org")
    said += await official.send_document("plan.pdf")  # attached from the review card
    said += await _press(official, "w.mmd")  # the Marrakech Mayors Declaration, once
    said += await _press(official, "w.submit")
    assert any("CLA-" in m.text for m in said)
    card = next(m.text for m in reversed(said) if "UNHCR" in m.text and "plan.pdf" in m.text)
    assert "un_agency" not in card and "international" not in card  # labels, never codes
    said += await official.send("/mypledges")
    said += await _press(official, "m.open")
    said += await _press(official, "m.edit")
    said += await _press(official, "m.field", 2)  # the title
    said += await official.send("Maisons d'accueil pour familles")
    said += await _press(official, "m.progress")
    said += await _press(official, "m.stage", 1)
    said += await official.send("Les 50 premiers logements sont prêts et occupés.")
    assert "Maisons d'accueil pour familles" in said[-1].text
    note = standin.last_message(31)
    assert note is not None and "New pledge submitted" in note.text  # the coordinator's English
    if language != "en":
        seen = "\n".join(m.text for m in said)
        leaks = [s for s in _english_sentences() if s in seen]
        assert leaks == [], leaks
        assert official.last_answer is None or official.last_answer not in _english_sentences()


def test_catalog_files_exist_for_every_language() -> None:
    for language in LANGUAGES:
        assert (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").is_file()


# A bidirectional control character: Telegram does not see `/name` as one command across it.
BIDI_CONTROL = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SPLIT_COMMAND = re.compile(f"/[{BIDI_CONTROL}]|/[A-Za-z_]*[{BIDI_CONTROL}]+[A-Za-z_]")


@pytest.mark.parametrize("language", CATALOGS)
def test_no_translation_puts_anything_between_the_slash_and_a_command(language: str) -> None:
    """A value after a slash would be isolated in right-to-left text, splitting the command:
    commands are filled in whole, slash included."""
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in (*strings, *(message.id if isinstance(message.id, tuple) else (message.id,))):
            assert not re.search(rf"/%\(|{SPLIT_COMMAND.pattern}", text or ""), (language, text)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_command_the_bot_names_can_be_tapped(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations, language: str
) -> None:
    stranger = standin.person(
        app, user_id=41, first_name="Sam", language_code=TELEGRAM_TAG[language]
    )
    said = await stranger.send("/pledge")
    official = standin.person(
        app, user_id=42, first_name="Olga", language_code=TELEGRAM_TAG[language]
    )
    said += await official.send("/start " + await invitations.make(Role.OFFICIAL, locality="Lyon"))
    said += await official.send("/help")
    said += await official.send("/nosuchthing")
    said += await official.send("/invite")
    commands = [c for m in said for c in re.findall(r"/[A-Za-z_]+", m.text)]
    assert {"/pledge", "/help", "/nosuchthing", "/invite"} <= set(commands)
    for message in said:
        assert not SPLIT_COMMAND.search(message.text), (language, message.text)
