"""Exports laid out as the UN's own pledge forms ask, column by column, in their English.

`unn-gcm`: the UN Network on Migration's GCM pledge form (IMRF). `unhcr-grf`: UNHCR's Global
Refugee Forum pledge form. docs/un-form-layouts.md maps every column to its source field and
lists what has no counterpart either way. Progress reports keep the codes layout's sheet.
Each layout holds only the pledges its form would take (`selection`): submitted, approved or
delivered ones serving its compact, whoever exports with it.
"""

from __future__ import annotations

from datetime import date

from babel import Locale

from conversations.form_rules import is_late
from conversations.parsing import country_name
from conversations.vocabulary import (
    GCM_OBJECTIVES,
    GCR_OBJECTIVES,
    PARTNER_KINDS,
    REFUGEE_SITUATIONS,
    TARGET_GROUPS,
)
from storage.exchange.layout import (
    CODES,
    GCM_FORM,
    GCR_FORM,
    Cell,
    PledgeRecord,
    ReportRecord,
    RowFormat,
    answer_code,
)
from storage.models import Compact, LocalityKind, PledgeType, Scope, Stage, SupportType

ENGLISH = Locale.parse("en")
JOIN = "; "

UNN_PLEDGE_TYPES = {
    PledgeType.INDIVIDUAL.value: "Individual pledge",
    PledgeType.COMMON.value: "Common pledge",
    PledgeType.PARTNERSHIP.value: "Pledge in partnership",
    PledgeType.MATCHING.value: "Matching pledge",
}
# The forms of pledge the UNN's pledging guidance names; pledgebot's support types map onto
# them (material support is a financial contribution in kind; pathways a policy commitment).
UNN_FORMS_OF_PLEDGE = {
    SupportType.FINANCIAL.value: "Financial contributions",
    SupportType.MATERIAL.value: "Financial contributions",
    SupportType.TECHNICAL.value: "Human resource contributions",
    SupportType.POLICY.value: "Policy-oriented commitments",
    SupportType.PATHWAYS.value: "Policy-oriented commitments",
    SupportType.OTHER.value: "Process-oriented commitments",
}
UNN_LEVELS = {
    Scope.LOCAL.value: "Local",
    Scope.REGIONAL.value: "Regional",
    Scope.NATIONAL.value: "National",
    Scope.INTERNATIONAL.value: "International",
}
GRF_ENTITY_TYPES = {
    LocalityKind.MUNICIPALITY.value: "Local Government",
    LocalityKind.REGIONAL_GOVERNMENT.value: "Regional Government",
    LocalityKind.ASSOCIATION.value: "Network of Local Governments",
}
# As UNHCR's pledge update form asks the stage of progress.
GRF_STAGES = {
    Stage.PLANNING.value: "in the planning stage",
    Stage.IN_PROGRESS.value: "in progress",
    Stage.FULFILLED.value: "fulfilled",
}


def _objectives(compact: str, numbers: list[int]) -> str:
    titles = GCM_OBJECTIVES if compact == Compact.GCM.value else GCR_OBJECTIVES
    return JOIN.join(f"Objective {n}: {titles[n][1]}" for n in numbers if n in titles)


def _timeline(r: PledgeRecord) -> str:
    start = r.starts_on.isoformat() if r.starts_on else ""
    end = "ongoing" if r.ongoing else (r.ends_on.isoformat() if r.ends_on else "")
    return f"{start} – {end}" if start or end else ""


def _partners(r: PledgeRecord) -> str:
    """Partner localities with their country, then other partners with their kind."""
    localities = [f"{name} ({country_name(country, ENGLISH)})" for name, country in r.partners]
    others = [f"{name} ({PARTNER_KINDS.get(kind, kind)})" for name, kind in r.other_partners]
    return JOIN.join([*localities, *others])


def _names(full_name: str) -> tuple[str, str]:
    """First and last name as the GRF form splits them: the last word is the last name."""
    words = full_name.split()
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (full_name, "")


def _budget(r: PledgeRecord) -> Cell:
    return r.amount if r.amount is not None else ""


def _submitted(r: PledgeRecord) -> date | str:
    return r.submitted_at.date() if r.submitted_at else ""


def _late(r: PledgeRecord) -> str:
    late = r.submitted_at is not None and is_late(r.forum, r.submitted_at)
    return "yes" if late else "no"


def _benefit(r: PledgeRecord) -> str:
    """The countries that benefit, then the refugee situations, in English."""
    countries = [country_name(c, ENGLISH) for c in r.beneficiary_countries]
    situations = [REFUGEE_SITUATIONS.get(s, s) for s in r.refugee_situations]
    return JOIN.join([*countries, *situations])


class _FormLayout:
    """What both form layouts share: one CSV text per cell, reports in codes."""

    reports_sheet = CODES.reports_sheet
    time_zone = "UTC"

    def text(self, value: Cell) -> str:
        return CODES.text(value)

    def report_header(self) -> list[str]:
        return CODES.report_header()

    def report_row(self, record: ReportRecord) -> list[Cell]:
        return CODES.report_row(record)


MMD_COLUMN = "Marrakech Mayors Declaration endorsed"
UNN_GCM_COLUMNS = (
    # Section I: the contact person
    "Contact person: name",
    "Contact person: title",
    "Contact person: e-mail",
    "Contact person: phone",
    "Pledging entity",
    "Country",
    # Section II: the kind of pledge, its partners, the pledge it matches
    "Type of pledge",
    "Participating States and Actors",
    "Matched pledge (title and ID number)",
    # Sections III-V: what the pledge is and advances
    "Form of pledge",
    "GCM objectives",
    "Level of action",
    "Countries",
    "Timeframe",
    # Section VI: the pledge itself (300-3,000 characters)
    "Pledge title",
    "Pledge description",
    # Section VII: one attachment
    "Attachment",
    # Not on the form: what the secretariat needs to trace the row back
    "pledgebot reference",
    "Web page",
    "Budget",
    "Currency",
    "Stage",
    "Submitted on",
    "Submitted after the deadline",
    # Asked by the Call to Local Action, on neither form
    MMD_COLUMN,
)


class UnnGcmLayout(_FormLayout):
    """The UN Network on Migration's GCM pledge form: pledges serving the GCM."""

    pledges_sheet = "unn_gcm_pledges"
    selection = GCM_FORM

    def pledge_header(self) -> list[str]:
        return list(UNN_GCM_COLUMNS)

    def pledge_row(self, r: PledgeRecord) -> list[Cell]:
        forms = dict.fromkeys(UNN_FORMS_OF_PLEDGE[s] for s in r.support_types)
        return [
            r.contact_name,
            r.contact_title,
            r.contact_email,
            r.contact_phone,
            r.locality,
            country_name(r.country, ENGLISH),
            UNN_PLEDGE_TYPES.get(r.pledge_type, r.pledge_type),
            _partners(r),
            r.matching_reference,
            JOIN.join(forms),
            _objectives(Compact.GCM.value, r.gcm_objectives),
            UNN_LEVELS.get(r.scope, ""),
            JOIN.join(country_name(c, ENGLISH) for c in r.beneficiary_countries),
            _timeline(r),
            r.title,
            r.description,
            r.attachments[0] if r.attachments else "",
            r.reference,
            r.project_url,
            _budget(r),
            r.currency or "",
            GRF_STAGES.get(r.stage, r.stage),
            _submitted(r),
            _late(r),
            answer_code(r.locality_endorsed_mmd),
        ]


UNHCR_GRF_COLUMNS = (
    # Pledge Entity Information
    "Name of entity submitting this form",
    "Country",
    "Institutional (departmental) general email address",
    "Submitting entity type",
    # Contact Information
    "Salutation",
    "First Name",
    "Last Name",
    "Position",
    "Email",
    # Linked to the Multi-stakeholder pledge
    "Multistakeholder pledge",
    # Pledge
    "Summary heading for this pledge",
    "Pledge description",
    "Expected impact of the pledge in one sentence",
    "Target population(s)",
    "Number of targeted beneficiaries (if known)",
    "Timeline for implementation(s)",
    # Not on the form: UNHCR's own vocabularies and what traces the row back
    "GCR objectives",
    "Type of contribution",
    "Stage of progress",
    "Joint pledge partners",
    "pledgebot reference",
    "Web page",
    "Documents",
    "Budget",
    "Currency",
    "Submitted on",
    "Submitted after the deadline",
    "Countries and refugee situations that benefit",
    # Asked by the Call to Local Action, on neither form
    MMD_COLUMN,
)
GRF_CONTRIBUTIONS = {
    SupportType.FINANCIAL.value: "Financial",
    SupportType.MATERIAL.value: "Material",
    SupportType.TECHNICAL.value: "Technical support",
    SupportType.PATHWAYS.value: "Resettlement and complementary pathways",
    SupportType.POLICY.value: "Policy",
    SupportType.OTHER.value: "Other",
}


class UnhcrGrfLayout(_FormLayout):
    """UNHCR's Global Refugee Forum pledge form (GRF 2023): pledges serving the GCR."""

    pledges_sheet = "unhcr_grf_pledges"
    selection = GCR_FORM

    def pledge_header(self) -> list[str]:
        return list(UNHCR_GRF_COLUMNS)

    def pledge_row(self, r: PledgeRecord) -> list[Cell]:
        first, last = _names(r.contact_name)
        return [
            r.locality,
            country_name(r.country, ENGLISH),
            "",
            GRF_ENTITY_TYPES.get(r.locality_kind, "Local Government"),
            "",
            first,
            last,
            r.contact_title,
            r.contact_email,
            JOIN.join(r.multistakeholder_pledges),
            r.title,
            r.description,
            "",
            JOIN.join(TARGET_GROUPS[g] for g in r.target_groups if g in TARGET_GROUPS),
            "",
            _timeline(r),
            _objectives(Compact.GCR.value, r.gcr_objectives),
            JOIN.join(GRF_CONTRIBUTIONS.get(s, s) for s in r.support_types),
            GRF_STAGES.get(r.stage, r.stage),
            _partners(r),
            r.reference,
            r.project_url,
            JOIN.join(r.attachments),
            _budget(r),
            r.currency or "",
            _submitted(r),
            _late(r),
            _benefit(r),
            answer_code(r.locality_endorsed_mmd),
        ]


LAYOUTS: dict[str, RowFormat] = {"unn-gcm": UnnGcmLayout(), "unhcr-grf": UnhcrGrfLayout()}
