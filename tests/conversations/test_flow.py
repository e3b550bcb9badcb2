"""The whole path of a pledge through the real Application and the Bot API stand-in."""

from __future__ import annotations

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.models import Role
from tests.conftest import Invitations


async def test_invite_to_submitted_pledge(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    coordinator = standin.person(app, user_id=11, first_name="Coco")
    await coordinator.send("/start " + await invitations.make(Role.COORDINATOR))
    official = standin.person(app, user_id=22, first_name="Olga")
    token = await invitations.make(Role.OFFICIAL, locality="Lyon", country="FR")
    replies = await official.send(f"/start {token}")
    assert "Official" in replies[0].text and "Lyon" in replies[0].text
    replies = await official.send("/pledge")
    print([r.text for r in replies])
    replies = await official.press("Global Refugee Forum 2027")
    print([r.text for r in replies])
    replies = await official.press("Both")
    replies = await official.send("Welcome <b>refugees</b> & migrants")
    replies = await official.send(
        "We will open a one-stop centre for newcomers, with language classes and legal advice."
    )
    replies = await official.press("Next ›")
    replies = await official.press("GCM 15")
    replies = await official.press("Done")
    replies = await official.press("GCR 2")
    replies = await official.press("Done")
    replies = await official.press("Technical")
    replies = await official.press("Done")
    replies = await official.press("Refugees")
    replies = await official.press("Migrants")
    replies = await official.press("Done")
    replies = await official.send("2027-01-15")
    replies = await official.press("Ongoing")
    replies = await official.send("250000 EUR")
    replies = await official.press("No partners")
    replies = await official.press("Local")
    replies = await official.send("Ana Silva, Deputy Mayor, ana@lyon.example.org")
    for r in replies:
        print(r.text)
    replies = await official.press("Submit")
    for r in replies:
        print(r.text)
    assert "CLA-" in replies[-1].text
    note = standin.last_message(11)
    assert note is not None and "New pledge submitted" in note.text
