"""What the UN pledge forms ask, through the wizard: scope, countries, contact, pledge type,
a forum's description limits, and the notes a form would otherwise send back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from conversations.pledge_steps import name_check
from storage.attachments import list_attachments
from storage.engine import SessionFactory, transaction
from storage.forums import update_forum
from storage.models import Forum, Pledge, Role, WorkflowState
from tests.conftest import Invitations
from tests.conversations.helpers import (
    FORUM,
    STEP_ORDER,
    answer,
    assert_no_error,
    join,
    latest_pledge,
    reads,
    start_pledge,
    texts,
    walk_to,
)

# The kinds of file kept, named alike by the documents step's question and its refusal.
KEPT_KINDS = "PDF, Word, Excel, PowerPoint, OpenDocument, text, CSV, pictures"


async def _change_forum(sessions: SessionFactory, **changes: object) -> None:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        await update_forum(session=session, forum=forum, changes=changes)


async def _attached(sessions: SessionFactory, telegram_id: int) -> list[str]:
    """The names of the documents of the member's latest pledge."""
    pledge = await latest_pledge(sessions, telegram_id)
    async with transaction(sessions) as session:
        return [
            a.file_name for a in await list_attachments(session=session, pledge_id=pledge.id or 0)
        ]


async def test_an_international_pledge_names_its_countries_in_the_readers_words(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "scope")
    await reads(sessions, 22, "fr")  # she reads French from here on
    pid = (await latest_pledge(sessions, 22)).id
    replies = await person.press_data(f"w.scope:{pid}:international")
    assert "Liban" in texts(replies)  # the example, in French
    replies = await person.send("Liban, Narnia")
    assert "Narnia" in texts(replies)  # named back, in French
    assert (await latest_pledge(sessions, 22)).beneficiary_countries == []
    await person.send("Liban, Jordanie, LB")
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.scope, pledge.beneficiary_countries) == ("international", ["LB", "JO"])
    replies = await answer(person, "contact")
    card = replies[-1].text
    assert "International · Liban et Jordanie" in card


async def test_a_local_pledge_benefits_the_home_country_in_one_tap(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "scope")
    replies = await person.press("Regional")
    assert "Who is the contact person" in texts(replies)  # no countries step
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.scope, pledge.beneficiary_countries) == ("regional", ["FR"])
    replies = await answer(person, "contact")
    assert "Scope: Regional · France" in replies[-1].text
    # Changed to international from the review card: the countries are asked, then the card.
    await person.press("✏️ Scope")
    replies = await person.press("International")
    assert "Which countries" in texts(replies)
    replies = await person.send("Lebanon")
    assert "Scope: International · Lebanon" in replies[-1].text


async def test_the_contact_is_checked_and_offered_again_for_the_next_pledge(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "contact")
    replies = await person.send("Ana Silva, ana@lyon")
    assert "I still need a title (Mayor, Head of Social Affairs…) and a valid e-mail" in texts(
        replies
    )
    assert (await latest_pledge(sessions, 22)).contact_email == ""
    replies = await person.send("Ana Silva\n+33 4 72 10 30 30\nDeputy Mayor\nAna@Lyon.example.org")
    assert_no_error(replies)
    card = replies[-1].text
    assert "Contact: Ana Silva · Deputy Mayor · ana@lyon.example.org · +33 4 72 10 30 30" in card
    await person.press("✅ Submit")

    # The next pledge offers the same contact as one button.
    await start_pledge(person)
    for step in STEP_ORDER[: STEP_ORDER.index("contact")]:
        replies = await answer(person, step)
    buttons = [b.text for b in replies[-1].buttons()]
    assert any(b.startswith("👤 Ana Silva") for b in buttons), buttons
    replies = await person.press("👤 Ana Silva")
    assert "Please check your pledge" in texts(replies)
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.contact_name, pledge.contact_title, pledge.contact_email) == (
        "Ana Silva",
        "Deputy Mayor",
        "ana@lyon.example.org",
    )


async def test_the_wizard_asks_at_most_two_more_things_than_before_the_un_fields(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    """Forum to review card, both compacts, no partners: 16 interactions before scope and
    contact, 18 now; with the contact offered from the last pledge it stays 18."""
    person = await join(standin, app, invitations, user_id=22)
    await start_pledge(person)
    interactions = 0
    counting = person.send, person.press

    async def send(*args: object, **kwargs: object) -> object:
        nonlocal interactions
        interactions += 1
        return await counting[0](*args, **kwargs)  # type: ignore[arg-type]

    async def press(*args: object, **kwargs: object) -> object:
        nonlocal interactions
        interactions += 1
        return await counting[1](*args, **kwargs)  # type: ignore[arg-type]

    person.send, person.press = send, press  # type: ignore[method-assign]
    for step in STEP_ORDER[:-1]:
        await answer(person, step)
    assert interactions == 18
    await person.press("✅ Submit")

    # The next pledge: the contact of the one submitted is offered, and taken with one tap.
    await start_pledge(person)
    interactions = 0
    for step in STEP_ORDER[: STEP_ORDER.index("contact")]:
        replies = await answer(person, step)
    offered = [b.text for b in replies[-1].buttons() if b.text.startswith("👤 Ana Silva")]
    assert len(offered) == 1, [b.text for b in replies[-1].buttons()]
    replies = await person.press(offered[0])
    assert "Please check your pledge" in replies[-1].text
    assert "Contact: Ana Silva · Deputy Mayor · ana@example.org" in replies[-1].text
    assert interactions == 18


async def test_a_forums_description_limits_are_asked_and_explained(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    await _change_forum(sessions, description_min=300, description_max=3000)
    person = await join(standin, app, invitations, user_id=22)
    replies = await walk_to(person, "description")
    assert f"in 300 to 3,000 characters: the pledge form of {FORUM} asks for that" in texts(replies)
    replies = await person.send("A centre for newcomers with language classes.")
    assert "please write at least 300" in texts(replies)
    assert f"The pledge form of {FORUM} asks for at least this much" in texts(replies)
    assert (await latest_pledge(sessions, 22)).description == ""
    long_enough = "A one-stop centre for newcomers, with language classes. " * 6
    replies = await person.send(long_enough)
    assert "Global Compact for Migration does" in texts(replies)


async def test_a_gcm_pledge_only_for_refugees_is_told_the_form_would_send_it_back(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "compacts")
    await person.press("Global Compact for Migration (GCM)")
    for step in ("title", "description", "gcm", "support", "groups"):  # groups: refugees
        await answer(person, step)
    for step in ("start", "end", "budget", "partners", "scope"):
        await answer(person, step)
    replies = await answer(person, "contact")
    assert "The GCM pledge form is for pledges that serve migrants" in replies[-1].text
    # A note, not a wall: it can be submitted as it is.
    replies = await person.press("✅ Submit")
    assert "Your pledge is submitted" in texts(replies)


async def test_a_late_pledge_is_taken_and_marked_late_for_everyone(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR, first_name="Coco")
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await _change_forum(sessions, pledge_deadline=datetime.now(UTC) - timedelta(hours=2))
    await person.send("/pledge")  # the card again, read now
    card = standin.last_message(22)
    assert card is not None and "The pledge deadline of this forum" in card.text
    replies = await person.press("✅ Submit")
    assert "Your pledge is submitted" in texts(replies)
    assert "Submitted after the pledge deadline" in texts(replies)
    notice = standin.last_message(11)
    assert notice is not None and "New pledge submitted" in notice.text
    assert "Submitted after the pledge deadline" in notice.text


async def test_documents_and_a_link_are_kept_listed_sent_back_and_taken_off(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    replies = await person.press("✏️ Link and documents")
    assert "Send the address of the project's web page, or documents" in texts(replies)
    assert f"from your phone ({KEPT_KINDS})" in texts(replies)
    replies = await person.send("not a link")
    assert "That does not look like a web address" in texts(replies)
    replies = await person.send("www.lyon.fr/accueil")
    assert "Web page: https://www.lyon.fr/accueil" in replies[-1].text  # back on the card

    # A document sent on the review card is fetched, kept and listed.
    report = b"%PDF-1.7 the welcome centre's plan" * 100
    replies = await person.send_document("plan centre.pdf", data=report)
    assert "Attached: plan centre.pdf" in texts(replies)
    assert "Documents: plan centre.pdf" in replies[-1].text
    replies = await person.send_document("plan centre.pdf", data=report)  # the same again
    assert "That document is already attached." in texts(replies)
    replies = await person.send_document("plan centre.pdf", data=b"%PDF another plan")
    assert "Attached: plan centre (2).pdf" in texts(replies)  # never two of one name
    replies = await person.send_document("virus.exe")
    assert f"I keep only these kinds of files: {KEPT_KINDS}." in texts(replies)  # as asked
    replies = await person.send_document("huge.pdf", size=21 * 1024 * 1024)
    assert "That file is over 20 MB" in texts(replies)

    # From the documents step it comes back as the file it was, and can be taken off.
    replies = await person.press("✏️ Link and documents")
    replies = await person.press("📄 plan centre.pdf")
    sent = standin.last_message(22)
    assert sent is not None and sent.document is not None
    assert sent.document["content"] == report and sent.document["file_name"] == "plan centre.pdf"
    await person.press("🗑")  # the first row's
    replies = await person.press("🗑")  # and the one left
    assert [b.text for b in replies[-1].buttons()] == ["✅ Done"]
    replies = await person.press("✅ Done")
    assert "Documents: —" in replies[-1].text
    replies = await person.send("/history")
    pledge = await latest_pledge(sessions, 22)
    assert pledge.project_url == "https://www.lyon.fr/accueil"


async def test_partners_of_every_kind_are_added_by_name_and_kind(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "partners")
    replies = await person.send("UNHCR Lyon office")
    assert "No registered local government matches “UNHCR Lyon office”" in texts(replies)
    assert "Or add “UNHCR Lyon office” as:" in texts(replies)
    await person.press("UN agency")
    await person.send("Forum Réfugiés")
    replies = await person.press("NGO or civil society")
    labels = [b.text for b in replies[-1].buttons()]
    assert "✅ UNHCR Lyon office (UN agency)" in labels
    assert "✅ Forum Réfugiés (NGO or civil society)" in labels
    pledge = await latest_pledge(sessions, 22)
    assert pledge.pledge_type == "partnership"
    assert pledge.other_partners == [
        {"name": "UNHCR Lyon office", "kind": "un_agency"},
        {"name": "Forum Réfugiés", "kind": "civil_society"},
    ]
    # A kind button with no name typed before it (stale, or forged) adds nothing.
    await person.press_data(f"w.padd:{pledge.id}:state")
    assert person.last_answer == "That button is not valid."
    stale = next(
        b for b in standin.last_message(22).buttons() if b.text.startswith("✅ UNHCR")
    ).callback_data
    await person.press("✅ UNHCR Lyon office (UN agency)")  # off again
    # The same press again, from the old keyboard: Forum Réfugiés moved into its place, and
    # is not taken off by it.
    await person.press_data(stale or "")
    assert person.last_answer == "That button is not valid."
    assert len((await latest_pledge(sessions, 22)).other_partners) == 1
    replies = await person.press("Done · one common text")
    await answer(person, "scope")
    replies = await answer(person, "contact")
    card = replies[-1].text
    assert "Partners: Forum Réfugiés (NGO or civil society)" in card
    assert "Pledge type: Common pledge" in card


async def test_the_marrakech_declaration_is_asked_once_per_locality(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    replies = await walk_to(person, "review")
    assert "Has Lyon endorsed the Marrakech Mayors Declaration (2018)?" in replies[-1].text
    replies = await person.press("🏛 Yes, endorsed")
    assert person.last_answer == "Noted for Lyon."
    card = replies[-1]
    assert "Marrakech Mayors Declaration: endorsed" in card.text
    assert "Has Lyon endorsed" not in card.text
    assert "🏛 Not yet" not in [b.text for b in card.buttons()]
    await person.press("✅ Submit")
    # A colleague's pledge for the same locality is not asked again.
    colleague = await join(standin, app, invitations, user_id=23, first_name="Leo")
    replies = await walk_to(colleague, "review")
    assert "Has Lyon endorsed" not in replies[-1].text
    assert "Marrakech Mayors Declaration: endorsed" in replies[-1].text


async def test_a_matching_pledge_names_the_pledge_it_matches(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await person.press("✏️ Pledge type")
    await person.press("Pledge in partnership")
    assert person.last_answer == "Name its partners first, with ✏️ Partners."
    replies = await person.press("Matching another pledge")
    assert "Send the reference of the pledge it matches" in texts(replies)
    # Leaving now would leave a matching pledge matching nothing: Submit asks for it.
    replies = await person.send("not a reference at all")
    assert "That is not a pledge reference" in texts(replies)
    # One of this project's references must be another pledge that exists.
    replies = await person.send("CLA-2027-9999")
    assert "There is no other pledge CLA-2027-9999 here" in texts(replies)
    assert (await latest_pledge(sessions, 22)).matching_reference == ""
    replies = await person.send("grf-08531")
    assert "Pledge type: Matching another pledge · GRF-08531" in replies[-1].text
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.pledge_type, pledge.matching_reference) == ("matching", "GRF-08531")
    # Back to an individual pledge: the matched reference goes with it.
    await person.press("✏️ Pledge type")
    replies = await person.press("Individual pledge")
    assert "Pledge type: Individual pledge" in replies[-1].text
    assert (await latest_pledge(sessions, 22)).matching_reference == ""


async def test_a_matching_pledge_names_another_pledge_of_this_project(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    from tests.conversations.helpers import submit_pledge

    person = await join(standin, app, invitations, user_id=22)
    matched = await submit_pledge(person)
    await walk_to(person, "review")
    await person.press("✏️ Pledge type")
    await person.press("Matching another pledge")
    # A withdrawn pledge is one nobody reads any more: it is not matched.
    await _set_state(sessions, matched, WorkflowState.WITHDRAWN)
    replies = await person.send(matched)
    assert f"There is no other pledge {matched} here" in texts(replies)
    await _set_state(sessions, matched, WorkflowState.SUBMITTED)
    replies = await person.send(matched.lower())
    assert f"Pledge type: Matching another pledge · {matched}" in replies[-1].text
    assert (await latest_pledge(sessions, 22)).matching_reference == matched


async def _set_state(sessions: SessionFactory, reference: str, state: WorkflowState) -> None:
    async with transaction(sessions) as session:
        found = (await session.exec(select(Pledge).where(Pledge.reference == reference))).one()
        found.state = state.value
        session.add(found)


async def test_an_export_in_chat_offers_the_documents_as_a_zip(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    import io
    import zipfile

    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await person.send_document("plan.pdf", data=b"%PDF-1.7 plan")
    replies = await person.press("✅ Submit")
    reference = next(w for w in texts(replies).replace(".", " ").split() if w.startswith("CLA-"))
    await person.send("/export")
    replies = await person.press("📎 Their documents (ZIP)")
    files = [m for m in replies if m.document is not None]
    assert [f.document["file_name"].rsplit(".", 1)[-1] for f in files] == ["zip"]
    archive = zipfile.ZipFile(io.BytesIO(files[-1].document["content"]))
    assert archive.namelist() == [f"{reference}/plan.pdf"]
    assert archive.read(f"{reference}/plan.pdf") == b"%PDF-1.7 plan"
    assert "1 document of these pledges" in files[-1].text


async def test_a_grf_pledge_says_which_multistakeholder_pledges_it_contributes_to(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    replies = await walk_to(person, "review")
    labels = [b.text for b in replies[-1].buttons()]
    assert "✏️ Multistakeholder pledges" not in labels  # the forum lists none yet
    await _change_forum(
        sessions,
        multistakeholder_pledges=["Economic inclusion and Social Protection", "Resettlement"],
    )
    await person.send("/pledge")
    card = standin.last_message(22)
    assert card is not None and "This forum has multistakeholder pledges" in card.text
    await person.press("✏️ Multistakeholder pledges")
    await person.press("Resettlement")
    await person.press("Economic inclusion and Social Protection")
    await person.press("✅ Resettlement")  # off again
    replies = await person.press("✅ Done")
    assert "Multistakeholder pledges: Economic inclusion and Social Protection" in replies[-1].text
    pledge = await latest_pledge(sessions, 22)
    assert pledge.multistakeholder_pledges == ["Economic inclusion and Social Protection"]
    # A forged index is refused.
    await person.press("✏️ Multistakeholder pledges")
    await person.press_data(f"w.msp:{pledge.id}:9:0")
    assert person.last_answer == "That button is not valid."


async def test_a_submitted_pledge_changes_its_scope_and_contact_with_history(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    from tests.conversations.helpers import submit_pledge

    person = await join(standin, app, invitations, user_id=22)
    reference = await submit_pledge(person)
    await person.send("/mypledges")
    await person.press(0)
    await person.press("✏️ Edit")
    replies = await person.press("Scope")
    assert "Where will the pledge make a difference" in texts(replies)
    replies = await person.press("International")
    assert "Which countries" in texts(replies)
    replies = await person.send("Lebanon, Jordan")
    assert_no_error(replies)
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.scope, pledge.beneficiary_countries) == ("international", ["LB", "JO"])
    replies = await person.send(f"/history {reference}")
    history = texts(replies)
    assert "Scope: Local → International" in history
    assert "Countries that benefit: France → Lebanon and Jordan" in history


async def test_link_matching_and_multistakeholder_in_french(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """The review card's own fields, read and answered in a second language."""
    await _change_forum(sessions, multistakeholder_pledges=["Resettlement"])
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await reads(sessions, 22, "fr")
    pid = (await latest_pledge(sessions, 22)).id
    replies = await person.press_data(f"w.edit:{pid}:files")
    assert "Envoyez" in texts(replies)
    replies = await person.send("pas un lien")
    assert "https://www.lyon.fr/accueil" in texts(replies)  # the example, in a French sentence
    replies = await person.send("www.lyon.fr/accueil")
    assert "Page web\u00a0: https://www.lyon.fr/accueil" in replies[-1].text
    await person.press_data(f"w.edit:{pid}:type")
    replies = await person.press_data(f"w.type:{pid}:matching")
    assert "GRF-08531" in texts(replies)
    replies = await person.send("GRF-08531")
    assert "GRF-08531" in replies[-1].text and "Type d’engagement" in replies[-1].text
    await person.press_data(f"w.edit:{pid}:msp")
    await person.press_data(f"w.msp:{pid}:0:{name_check('Resettlement')}")
    replies = await person.press_data(f"w.mspdone:{pid}")
    assert "Engagements multipartites\u00a0: Resettlement" in replies[-1].text
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.project_url, pledge.matching_reference) == (
        "https://www.lyon.fr/accueil",
        "GRF-08531",
    )
    assert pledge.multistakeholder_pledges == ["Resettlement"]


async def test_a_pledge_submitted_before_scope_and_contact_edits_one_field_without_them(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    from storage.models import Pledge
    from tests.conversations.helpers import submit_pledge

    person = await join(standin, app, invitations, user_id=22)
    await submit_pledge(person)
    async with transaction(sessions) as session:  # as migration 0009 left older pledges
        pledge = (await session.exec(select(Pledge))).one()
        pledge.scope, pledge.beneficiary_countries, pledge.contact_email = "", [], ""
        session.add(pledge)
    await person.send("/mypledges")
    await person.press(0)
    await person.press("✏️ Edit")
    await person.press("Title")
    replies = await person.send("A new title for the centre")
    assert "Saved. The change is recorded in the pledge's history." in texts(replies)
    assert "Where will the pledge make a difference" not in texts(replies)


# An iPhone photo sent as a file: an ISO media "ftyp" box whose brand is HEIC.
HEIC_PHOTO = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
RENAMED_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode."


async def test_documents_are_kept_by_their_type_and_what_they_hold(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    tmp_path: Path,
) -> None:
    """HEIC photos, GIFs and a scan with no extension (typed by the MIME type Telegram
    reports) are kept; a program renamed .pdf or a CSV that is not text is refused, in the
    person's language, and nothing of it is kept."""
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    replies = await person.send_document("IMG_0042.HEIC", data=HEIC_PHOTO)
    assert "Attached: IMG_0042.HEIC" in texts(replies)
    replies = await person.send_document("route.gif")  # the stand-in's bytes start GIF89a
    assert "Attached: route.gif" in texts(replies)
    replies = await person.send_document(
        "scan", data=b"%PDF-1.4 a scanned letter", mime_type="application/pdf"
    )
    assert "Attached: scan.pdf" in texts(replies)
    replies = await person.send_document("scan", data=b"?", mime_type="application/x-msdownload")
    assert f"I keep only these kinds of files: {KEPT_KINDS}." in texts(replies)
    replies = await person.send_document("invoice.pdf", data=RENAMED_PROGRAM)
    assert (
        "I did not keep invoice.pdf: its name says it is a PDF file, but its content is not."
        in texts(replies)
    )
    partners = "name,kind\nUNHCR,UN agency\n".encode("utf-16-le")  # no mark, NULs between
    replies = await person.send_document("partners.csv", data=partners)
    assert "its name says it is a CSV file" in texts(replies)
    assert_no_error(replies)

    await reads(sessions, 22, "fr")
    replies = await person.send_document("rapport.docx", data=b"%PDF-1.7 a PDF renamed")
    assert "Je n’ai pas conservé rapport.docx\u00a0: son nom indique un fichier DOCX" in texts(
        replies
    )
    replies = await person.send_document("setup.exe", data=RENAMED_PROGRAM)
    assert (
        "Je ne conserve que ces types de fichiers\u00a0: PDF, Word, Excel, PowerPoint, "
        "OpenDocument, texte, CSV, images." in texts(replies)
    )
    assert await _attached(sessions, 22) == ["IMG_0042.HEIC", "route.gif", "scan.pdf"]
    kept = sorted(p.name.split("-", 1)[1] for p in (tmp_path / "attachments").rglob("*.*"))
    assert kept == ["IMG_0042.HEIC", "route.gif", "scan.pdf"]  # nothing refused on disk


async def test_a_file_telegram_refuses_to_hand_over_is_refused_by_its_size(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """A client may report no size (0) or less than the file's: getFile itself then says "file
    is too big", and the person is told the limit as when the size was reported."""
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await person.press("✏️ Link and documents")
    too_big = 21 * 1024 * 1024
    for reported in (0, 1_000_000):
        standin.calls.clear()
        replies = await person.send_document("survey.pdf", size=too_big, reported_size=reported)
        assert [m for m, _ in standin.calls].count("getFile") == 1  # asked, and refused:
        assert standin.drain_violations() == ["getFile: Bad Request: file is too big"]
        assert "That file is over 20 MB, more than Telegram lets me fetch." in texts(replies)
        assert_no_error(replies)
    assert await _attached(sessions, 22) == []
    # The documents step goes on: a smaller version is attached, and Done is the card again.
    replies = await person.send_document("survey.pdf", size=2 * 1024 * 1024)
    assert "Attached: survey.pdf" in texts(replies)
    replies = await person.press("✅ Done")
    assert "Documents: survey.pdf" in replies[-1].text


async def test_a_document_is_sent_back_with_its_name_in_french(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    minutes = b"%PDF-1.7 compte rendu de la r\xc3\xa9union" * 40
    await person.send_document("Compte rendu – réunion d’été.pdf", data=minutes)
    await reads(sessions, 22, "fr")
    pid = (await latest_pledge(sessions, 22)).id
    replies = await person.press_data(f"w.edit:{pid}:files")
    question = texts(replies)
    assert "depuis votre téléphone (PDF, Word, Excel, PowerPoint, OpenDocument, texte" in question
    replies = await person.press("📄 Compte rendu – réunion d’été.pdf")
    assert_no_error(replies)
    sent = standin.last_message(22)
    assert sent is not None and sent.document is not None
    assert sent.document["file_name"] == "Compte rendu – réunion d’été.pdf"
    assert sent.document["content"] == minutes
    assert person.last_answer is None  # no alert: the file is the answer
    replies = await person.press("✅ Terminé")
    assert "Compte rendu – réunion d’été.pdf" in replies[-1].text  # the card, in French
    assert "Veuillez vérifier votre engagement" in replies[-1].text


async def test_the_form_notes_are_in_the_readers_language(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """The description limits a forum sets, explained, and the GCM form's rule on refugees,
    read in French."""
    await _change_forum(sessions, description_min=300, description_max=3000)
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "compacts")
    await person.press("Global Compact for Migration (GCM)")
    await reads(sessions, 22, "fr")
    replies = await person.send("Un centre pour les nouveaux arrivants")  # the title
    assert "comme le demande le formulaire d’engagement de" in texts(replies)
    replies = await person.send("Un centre avec des cours de langue.")
    assert "veuillez en écrire au moins 300" in texts(replies)
    assert "demande au moins cette longueur" in texts(replies)
    await person.send("Un guichet unique pour les nouveaux arrivants, avec des cours. " * 6)
    await reads(sessions, 22, "en")  # the buttons of the steps between, in English
    for step in ("gcm", "support", "groups", "start", "end", "budget", "partners", "scope"):
        await answer(person, step)  # groups: refugees only
    await reads(sessions, 22, "fr")
    replies = await answer(person, "contact")
    card = replies[-1].text
    assert "Le formulaire d’engagement du GCM est réservé aux engagements en faveur des" in card
    assert "The GCM pledge form" not in card


async def test_a_late_pledge_is_marked_late_in_each_readers_language(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """The official reads Spanish, the coordinator French: each is told in their own."""
    await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR, first_name="Coco")
    await reads(sessions, 11, "fr")
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await _change_forum(sessions, pledge_deadline=datetime.now(UTC) - timedelta(hours=2))
    await reads(sessions, 22, "es")
    await person.send("/pledge")
    card = standin.last_message(22)
    assert card is not None and "La fecha límite de compromisos de este foro" in card.text
    replies = await person.press("✅ Presentar")
    assert "Presentado después de la fecha límite de compromisos" in texts(replies)
    notice = standin.last_message(11)
    assert notice is not None and "Nouvel engagement soumis" in notice.text
    assert "Soumis après la date limite des engagements" in notice.text
    assert "Submitted after" not in notice.text


async def test_a_submitted_pledge_is_told_the_buttons_that_name_its_partners(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """In /mypledges there is no ✏️ Partners: the alert names ✏️ Edit and Partners, which
    are there."""
    from tests.conversations.helpers import submit_pledge

    person = await join(standin, app, invitations, user_id=22)
    await submit_pledge(person)
    await person.send("/mypledges")
    await person.press(0)
    await person.press("✏️ Edit")
    await person.press("Pledge type")
    await person.press("Pledge in partnership")
    assert person.last_answer == (
        "Name its partners first: ✏️ Edit on the pledge card, then Partners."
    )
    replies = await person.press("Individual pledge")
    assert "✏️ Edit" in [b.text for b in replies[-1].buttons()]
    replies = await person.press("✏️ Edit")
    assert "Partners" in [b.text for b in replies[-1].buttons()]

    await reads(sessions, 22, "fr")
    pid = (await latest_pledge(sessions, 22)).id
    await person.press_data(f"m.field:{pid}:type")
    await person.press_data(f"w.type:{pid}:common")
    assert person.last_answer == (
        "Indiquez d’abord ses partenaires\u00a0: ✏️ Modifier sur la fiche de l’engagement, "
        "puis Partenaires."
    )
