"""A pledge as a person reads it: labels in their language, content as it was written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from conversations.i18n import Html, Translator
from conversations.parsing import country_name
from conversations.vocabulary import (
    COMPACT_SHORT,
    PARTNER_KINDS,
    PLEDGE_TYPES,
    REFUGEE_SITUATIONS,
    SCOPES,
    STAGES,
    SUPPORT_TYPES,
    TARGET_GROUPS,
    WORKFLOW_STATES,
    label,
    objective_label,
)
from storage.forums import forum_name
from storage.models import Locality, Pledge
from storage.pledges import PledgeView

MAX_MESSAGE = 4096
DESCRIPTION_PREVIEW = 300


def compacts_text(t: Translator, compacts: Sequence[str]) -> str:
    if not compacts:
        return "—"
    names = [label(t, COMPACT_SHORT, c) for c in sorted(compacts)]
    return (
        t.plain("%(first)s and %(second)s", first=names[0], second=names[1])
        if len(names) == 2
        else names[0]
    )


def objectives_lines(t: Translator, pledge: Pledge, *, full: bool) -> list[str]:
    lines: list[str] = []
    for compact, chosen in (("gcm", pledge.gcm_objectives), ("gcr", pledge.gcr_objectives)):
        if compact in pledge.compacts:
            lines.extend(objective_label(t, compact, n, full=full) for n in sorted(chosen))
    return lines


def locality_text(t: Translator, locality: Locality | None) -> str:
    if locality is None:
        return "—"
    return t.plain(
        "%(name)s, %(country)s",
        name=locality.name,
        country=country_name(locality.country, t.locale),
    )


def end_text(t: Translator, ongoing: bool, ends_on: date | None) -> str:
    """'ongoing', the end date, or a dash."""
    if ongoing:
        return t.plain("ongoing")
    return t.date(ends_on) if ends_on else "—"


@dataclass(frozen=True)
class Fit:
    """How much of a pledge a card shows: each level gives up a little to stay in one message."""

    full_objectives: bool
    description_limit: int | None
    partners_shown: int | None
    # Contact, scope and countries, web page, multistakeholder pledges, documents: each cut to
    # this many characters (their fields allow thousands together).
    extras_limit: int | None = None


FITS = (
    Fit(full_objectives=True, description_limit=None, partners_shown=None),
    Fit(full_objectives=False, description_limit=None, partners_shown=None),
    Fit(full_objectives=False, description_limit=DESCRIPTION_PREVIEW, partners_shown=None),
    Fit(full_objectives=False, description_limit=DESCRIPTION_PREVIEW, partners_shown=3),
    Fit(
        full_objectives=False,
        description_limit=DESCRIPTION_PREVIEW,
        partners_shown=3,
        extras_limit=150,
    ),
    Fit(full_objectives=False, description_limit=100, partners_shown=2, extras_limit=60),
)
SHORT_NAME = 60


def utf16_length(text: str) -> int:
    """Length as Telegram counts it; the HTML source is never shorter than what it shows."""
    return len(text.encode("utf-16-le")) // 2


def pledge_card(t: Translator, view: PledgeView, *, heading: Html | None = None) -> Html:
    """The whole pledge, fitted to one message: full objective titles where there is room."""
    for fit in FITS:
        text = _render(t, view, heading=heading, fit=fit)
        if utf16_length(text) <= MAX_MESSAGE:
            return text
    return text


def _render(
    t: Translator,
    view: PledgeView,
    *,
    heading: Html | None,
    fit: Fit,
) -> Html:
    p = view.pledge
    description = _cut(p.description or "—", fit.description_limit)
    objectives = objectives_lines(t, p, full=fit.full_objectives) or ["—"]
    ends = end_text(t, p.ongoing, p.ends_on)
    budget = (
        t.money(p.amount, p.currency)
        if p.amount is not None and p.currency
        else t.plain("none given")
    )
    lines = [
        heading or t.gettext("<b>%(title)s</b>", title=p.title or "—"),
        t.gettext(
            "Reference: %(reference)s", reference=p.reference or t.plain("not yet submitted")
        ),
        t.gettext(
            "Status: %(state)s · %(stage)s",
            state=label(t, WORKFLOW_STATES, p.state),
            stage=label(t, STAGES, p.stage),
        ),
        t.gettext("Written in: %(language)s", language=t.language_name(p.language)),
        t.gettext("Locality: %(locality)s", locality=locality_text(t, view.locality)),
        *_endorsement_line(t, view.locality),
        "",
        t.gettext(
            "<b>Forum:</b> %(forum)s",
            forum=forum_name(view.forum, t.language) if view.forum else "—",
        ),
        t.ngettext(
            "<b>Compact:</b> %(compacts)s",
            "<b>Compacts:</b> %(compacts)s",
            max(len(p.compacts), 1),
            compacts=compacts_text(t, p.compacts),
        ),
        t.gettext("<b>Title:</b> %(title)s", title=p.title or "—"),
        t.gettext("<b>Description:</b> %(description)s", description=description),
        t.gettext("<b>Objectives:</b>"),
        *(t.gettext("• %(objective)s", objective=o) for o in objectives),
        t.gettext(
            "<b>Support:</b> %(types)s",
            types=t.join(label(t, SUPPORT_TYPES, s) for s in p.support_types) or "—",
        ),
        t.gettext(
            "<b>Target groups:</b> %(groups)s",
            groups=t.join(label(t, TARGET_GROUPS, g) for g in p.target_groups) or "—",
        ),
        t.gettext(
            "<b>Dates:</b> %(start)s – %(end)s",
            start=t.date(p.starts_on) if p.starts_on else "—",
            end=ends,
        ),
        t.gettext("<b>Budget:</b> %(budget)s", budget=budget),
        t.gettext(
            "<b>Partners:</b> %(partners)s",
            partners=_partners_text(t, view.partners, p.other_partners, fit.partners_shown),
        ),
        t.gettext(
            "<b>Pledge type:</b> %(type)s",
            type=" · ".join(
                v for v in (label(t, PLEDGE_TYPES, p.pledge_type), p.matching_reference) if v
            ),
        ),
        t.gettext("<b>Scope:</b> %(scope)s", scope=_cut(scope_text(t, p), fit.extras_limit)),
        t.gettext(
            "<b>Contact:</b> %(contact)s", contact=_cut(contact_text(t, p), fit.extras_limit)
        ),
        *(
            [
                t.gettext(
                    "<b>Multistakeholder pledges:</b> %(names)s",
                    names=_cut(t.join(p.multistakeholder_pledges), fit.extras_limit),
                )
            ]
            if p.multistakeholder_pledges
            else []
        ),
        t.gettext(
            "<b>Web page:</b> %(address)s", address=_cut(p.project_url, fit.extras_limit) or "—"
        ),
        t.gettext(
            "<b>Documents:</b> %(names)s",
            names=_cut(t.join(view.attachments), fit.extras_limit) or "—",
        ),
    ]
    return Html("\n".join(lines))


def beneficiaries_text(t: Translator, pledge: Pledge) -> str:
    """'Lebanon and Jordan · Syria situation': the countries, then the refugee situations."""
    countries = t.join(country_name(code, t.locale) for code in pledge.beneficiary_countries)
    situations = t.join(label(t, REFUGEE_SITUATIONS, code) for code in pledge.refugee_situations)
    return " · ".join(part for part in (countries, situations) if part)


def scope_text(t: Translator, pledge: Pledge) -> str:
    """'International · Lebanon and Jordan · Syria situation', as the card and history show a
    pledge's reach."""
    scope = label(t, SCOPES, pledge.scope) if pledge.scope else ""
    return " · ".join(part for part in (scope, beneficiaries_text(t, pledge)) if part) or "—"


def contact_text(t: Translator, pledge: Pledge) -> str:
    """'Ana Silva · Deputy Mayor · ana@lyon.fr · +33 4 72 10 30 30' (a middle dot reads the
    same in every language, where a list pattern would read 'Ana Silva and Deputy Mayor')."""
    if not pledge.contact_email:
        return "—"
    parts = (pledge.contact_name, pledge.contact_title, pledge.contact_email, pledge.contact_phone)
    return " · ".join(p for p in parts if p)


def _endorsement_line(t: Translator, locality: Locality | None) -> list[Html]:
    """Whether the locality endorsed the Marrakech Mayors Declaration, once it has said."""
    if locality is None or locality.endorsed_mmd is None:
        return []
    answer = t.plain("endorsed") if locality.endorsed_mmd else t.plain("not yet endorsed")
    return [t.gettext("Marrakech Mayors Declaration: %(answer)s", answer=answer)]


def pledge_line(t: Translator, pledge: Pledge, number: int) -> Html:
    """One line of a list: number, reference or 'draft', title, state."""
    return t.gettext(
        "%(number)s. %(reference)s <b>%(title)s</b> — %(state)s",
        number=t.number(number),
        reference=pledge.reference or t.plain("(draft)"),
        title=pledge.title or t.plain("(untitled)"),
        state=label(t, WORKFLOW_STATES, pledge.state),
    )


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


def other_partner_text(t: Translator, partner: Mapping[str, str]) -> str:
    """'UNHCR (UN agency)': a partner that is not a registered local government."""
    return t.plain(
        "%(name)s (%(kind)s)",
        name=partner.get("name", ""),
        kind=label(t, PARTNER_KINDS, partner.get("kind", "")),
    )


def _partners_text(
    t: Translator,
    partners: Sequence[Locality],
    others: Sequence[Mapping[str, str]],
    shown: int | None,
) -> str:
    names = [locality_text(t, loc) for loc in partners] + [
        other_partner_text(t, other) for other in others
    ]
    if not names:
        return "—"
    if shown is None:
        return t.join(names)
    kept = [_cut(name, SHORT_NAME) for name in names[:shown]]
    hidden = len(names) - len(kept)
    names = kept
    if hidden:
        names.append(t.plain("%(count)s more", count=t.number(hidden)))
    return t.join(names)
