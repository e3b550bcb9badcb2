"""How the domain's codes read to a person: labels marked for translation, shown translated."""

from __future__ import annotations

from conversations.i18n import N_, Translator
from storage.models import (
    Compact,
    PartnerKind,
    PledgeType,
    RefugeeSituation,
    Role,
    Scope,
    Stage,
    SupportType,
    TargetGroup,
    WorkflowState,
)

COMPACT_NAMES = {
    Compact.GCM.value: N_("Global Compact for Safe, Orderly and Regular Migration"),
    Compact.GCR.value: N_("Global Compact on Refugees"),
}
COMPACT_SHORT = {Compact.GCM.value: N_("GCM"), Compact.GCR.value: N_("GCR")}

STAGES = {
    Stage.PLANNING.value: N_("Planning stage"),
    Stage.IN_PROGRESS.value: N_("In progress"),
    Stage.FULFILLED.value: N_("Fulfilled"),
}

PLEDGE_TYPES = {
    PledgeType.INDIVIDUAL.value: N_("Individual pledge"),
    PledgeType.COMMON.value: N_("Common pledge (one text for several governments)"),
    PledgeType.PARTNERSHIP.value: N_("Pledge in partnership"),
    PledgeType.MATCHING.value: N_("Matching another pledge"),
}

PARTNER_KINDS = {
    PartnerKind.STATE.value: N_("State"),
    PartnerKind.UN_AGENCY.value: N_("UN agency"),
    PartnerKind.CIVIL_SOCIETY.value: N_("NGO or civil society"),
    PartnerKind.PRIVATE_SECTOR.value: N_("Private sector"),
    PartnerKind.ACADEMIA.value: N_("Academia"),
    PartnerKind.LED_BY_REFUGEES_OR_MIGRANTS.value: N_("Refugee- or migrant-led organisation"),
    PartnerKind.LOCAL_GOVERNMENT.value: N_("Local government"),
}

SCOPES = {
    Scope.LOCAL.value: N_("Local"),
    Scope.REGIONAL.value: N_("Regional"),
    Scope.NATIONAL.value: N_("National"),
    Scope.INTERNATIONAL.value: N_("International"),
}

REFUGEE_SITUATIONS = {
    RefugeeSituation.AFGHANISTAN.value: N_("Afghanistan situation"),
    RefugeeSituation.BURUNDI.value: N_("Burundi situation"),
    RefugeeSituation.CENTRAL_AFRICAN_REPUBLIC.value: N_("Central African Republic situation"),
    RefugeeSituation.DR_CONGO.value: N_("Democratic Republic of the Congo situation"),
    RefugeeSituation.MYANMAR_ROHINGYA.value: N_("Rohingya situation (Myanmar)"),
    RefugeeSituation.NIGERIA.value: N_("Nigeria situation"),
    RefugeeSituation.SAHEL.value: N_("Central Sahel situation"),
    RefugeeSituation.SOMALIA.value: N_("Somalia situation"),
    RefugeeSituation.SOUTH_SUDAN.value: N_("South Sudan situation"),
    RefugeeSituation.SUDAN.value: N_("Sudan situation"),
    RefugeeSituation.SYRIA.value: N_("Syria situation"),
    RefugeeSituation.UKRAINE.value: N_("Ukraine situation"),
    RefugeeSituation.VENEZUELA.value: N_("Venezuela situation"),
    RefugeeSituation.YEMEN.value: N_("Yemen situation"),
}

WORKFLOW_STATES = {
    WorkflowState.DRAFT.value: N_("Draft"),
    WorkflowState.SUBMITTED.value: N_("Submitted"),
    WorkflowState.CHANGES_REQUESTED.value: N_("Changes requested"),
    WorkflowState.APPROVED.value: N_("Approved"),
    WorkflowState.DELIVERED.value: N_("Delivered"),
    WorkflowState.WITHDRAWN.value: N_("Withdrawn"),
}

SUPPORT_TYPES = {
    SupportType.FINANCIAL.value: N_("Financial"),
    SupportType.MATERIAL.value: N_("Material"),
    SupportType.TECHNICAL.value: N_("Technical"),
    SupportType.PATHWAYS.value: N_("Resettlement and complementary pathways"),
    SupportType.POLICY.value: N_("Policy"),
    SupportType.OTHER.value: N_("Other"),
}

TARGET_GROUPS = {
    TargetGroup.MIGRANTS.value: N_("Migrants"),
    TargetGroup.REFUGEES.value: N_("Refugees"),
    TargetGroup.ASYLUM_SEEKERS.value: N_("Asylum seekers"),
    TargetGroup.IDPS.value: N_("Internally displaced persons"),
    TargetGroup.STATELESS.value: N_("Stateless persons"),
    TargetGroup.RETURNEES.value: N_("Returnees"),
    TargetGroup.HOST_COMMUNITIES.value: N_("Host communities"),
}

ROLES = {
    Role.OFFICIAL.value: N_("Official"),
    Role.COORDINATOR.value: N_("Coordinator"),
    Role.STAFF.value: N_("Staff"),
}

# What each field of a pledge is called: history entries, export headers and the like.
FIELD_LABELS = {
    "reference": N_("Reference"),
    "locality": N_("Locality"),
    "country": N_("Country"),
    "forum": N_("Forum"),
    "forum_id": N_("Forum"),
    "compacts": N_("Compacts"),
    "title": N_("Title"),
    "description": N_("Description"),
    "gcm_objectives": N_("GCM objectives"),
    "gcr_objectives": N_("GCR objectives"),
    "support_types": N_("Support types"),
    "target_groups": N_("Target groups"),
    "starts_on": N_("Start date"),
    "ends_on": N_("End date"),
    "ongoing": N_("Ongoing"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "state": N_("Workflow state"),
    "stage": N_("Stage"),
    "submitted_on": N_("Submitted on"),
    "last_progress": N_("Last progress report"),
    "contact": N_("Contact"),
    "language": N_("Language"),
    "partners": N_("Partners"),
    "partner_ids": N_("Partners"),
    "other_partners": N_("Other partners"),
    "matching_reference": N_("Matched pledge"),
    "multistakeholder_pledges": N_("Multistakeholder pledges"),
    "locality_endorsed_mmd": N_("Marrakech Mayors Declaration endorsed"),
    "pledge_type": N_("Pledge type"),
    "scope": N_("Scope"),
    "beneficiary_countries": N_("Countries that benefit"),
    "refugee_situations": N_("Refugee situations"),
    "contact_name": N_("Contact name"),
    "contact_title": N_("Contact title"),
    "contact_email": N_("Contact e-mail"),
    "contact_phone": N_("Contact phone"),
    "project_url": N_("Web page"),
    "attachments": N_("Documents"),
    "reported_at": N_("Reported at"),
    "narrative": N_("Narrative"),
    "figures": N_("Figures"),
    "reported_by": N_("Reported by"),
}

# (short label for buttons, full title from A/RES/73/195 for the pledge card)
GCM_OBJECTIVES: dict[int, tuple[str, str]] = {
    1: (
        N_("Data"),
        N_(
            "Collect and utilize accurate and disaggregated data as a basis for evidence-based policies"
        ),
    ),
    2: (
        N_("Minimize adverse drivers"),
        N_(
            "Minimize the adverse drivers and structural factors that compel people to leave their country of origin"
        ),
    ),
    3: (
        N_("Information provision"),
        N_("Provide accurate and timely information at all stages of migration"),
    ),
    4: (
        N_("Legal identity and documentation"),
        N_("Ensure that all migrants have proof of legal identity and adequate documentation"),
    ),
    5: (
        N_("Regular pathways"),
        N_("Enhance availability and flexibility of pathways for regular migration"),
    ),
    6: (
        N_("Recruitment and decent work"),
        N_(
            "Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work"
        ),
    ),
    7: (N_("Reduce vulnerabilities"), N_("Address and reduce vulnerabilities in migration")),
    8: (
        N_("Save lives"),
        N_("Save lives and establish coordinated international efforts on missing migrants"),
    ),
    9: (
        N_("Counter smuggling"),
        N_("Strengthen the transnational response to smuggling of migrants"),
    ),
    10: (
        N_("Eradicate trafficking"),
        N_(
            "Prevent, combat and eradicate trafficking in persons in the context of international migration"
        ),
    ),
    11: (
        N_("Manage borders"),
        N_("Manage borders in an integrated, secure and coordinated manner"),
    ),
    12: (
        N_("Screening and referral"),
        N_(
            "Strengthen certainty and predictability in migration procedures for appropriate screening, assessment and referral"
        ),
    ),
    13: (
        N_("Alternatives to detention"),
        N_(
            "Use migration detention only as a measure of last resort and work towards alternatives"
        ),
    ),
    14: (
        N_("Consular protection"),
        N_(
            "Enhance consular protection, assistance and cooperation throughout the migration cycle"
        ),
    ),
    15: (N_("Access to basic services"), N_("Provide access to basic services for migrants")),
    16: (
        N_("Inclusion and social cohesion"),
        N_("Empower migrants and societies to realize full inclusion and social cohesion"),
    ),
    17: (
        N_("Eliminate discrimination"),
        N_(
            "Eliminate all forms of discrimination and promote evidence-based public discourse to shape perceptions of migration"
        ),
    ),
    18: (
        N_("Skills development and recognition"),
        N_(
            "Invest in skills development and facilitate mutual recognition of skills, qualifications and competences"
        ),
    ),
    19: (
        N_("Migrant and diaspora contributions"),
        N_(
            "Create conditions for migrants and diasporas to fully contribute to sustainable development in all countries"
        ),
    ),
    20: (
        N_("Remittances"),
        N_(
            "Promote faster, safer and cheaper transfer of remittances and foster financial inclusion of migrants"
        ),
    ),
    21: (
        N_("Dignified return and reintegration"),
        N_(
            "Cooperate in facilitating safe and dignified return and readmission, as well as sustainable reintegration"
        ),
    ),
    22: (
        N_("Social protection"),
        N_(
            "Establish mechanisms for the portability of social security entitlements and earned benefits"
        ),
    ),
    23: (
        N_("International cooperation"),
        N_(
            "Strengthen international cooperation and global partnerships for safe, orderly and regular migration"
        ),
    ),
}

GCR_OBJECTIVES: dict[int, tuple[str, str]] = {
    1: (N_("Ease pressures on host countries"), N_("Ease the pressures on host countries")),
    2: (N_("Refugee self-reliance"), N_("Enhance refugee self-reliance")),
    3: (N_("Third-country solutions"), N_("Expand access to third-country solutions")),
    4: (
        N_("Return in safety and dignity"),
        N_("Support conditions in countries of origin for return in safety and dignity"),
    ),
}

OBJECTIVES = {Compact.GCM.value: GCM_OBJECTIVES, Compact.GCR.value: GCR_OBJECTIVES}


def label(t: Translator, labels: dict[str, str], code: str) -> str:
    """A code's translated label; an unknown code reads as itself rather than failing."""
    return t.plain(labels[code]) if code in labels else code


def objective_label(t: Translator, compact: str, number: int, *, full: bool = False) -> str:
    """'GCM 5 · Regular pathways' (or the full title), plain text in the reader's language."""
    short, title = OBJECTIVES[compact][number]
    return t.plain(
        "%(compact)s %(number)s · %(label)s",
        compact=t.plain(COMPACT_SHORT[compact]),
        number=t.number(number),
        label=t.plain(title if full else short),
    )
