"""The tables of DESIGN.md, as SQLModel classes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime, utc_now

MAX_DESCRIPTION = 3000  # the longest pledge description kept (UNN's form asks up to 3,000)


class Role(StrEnum):
    OFFICIAL = "official"
    COORDINATOR = "coordinator"
    STAFF = "staff"


class LocalityKind(StrEnum):
    MUNICIPALITY = "municipality"
    REGIONAL_GOVERNMENT = "regional_government"
    ASSOCIATION = "association"


class Compact(StrEnum):
    GCM = "gcm"
    GCR = "gcr"


class PledgeType(StrEnum):
    """As the UN forms ask: one government's, one text for several, with partners, or matching
    another pledge."""

    INDIVIDUAL = "individual"
    COMMON = "common"
    PARTNERSHIP = "partnership"
    MATCHING = "matching"


class PartnerKind(StrEnum):
    """Partners that are not registered local governments, as the UN forms list actors."""

    STATE = "state"
    UN_AGENCY = "un_agency"
    CIVIL_SOCIETY = "civil_society"
    PRIVATE_SECTOR = "private_sector"
    ACADEMIA = "academia"
    LED_BY_REFUGEES_OR_MIGRANTS = "led_by_refugees_or_migrants"
    LOCAL_GOVERNMENT = "local_government"  # one not registered in pledgebot


class Scope(StrEnum):
    """Where the pledge acts."""

    LOCAL = "local"
    REGIONAL = "regional"
    NATIONAL = "national"
    INTERNATIONAL = "international"


class RefugeeSituation(StrEnum):
    """UNHCR's major refugee situations, which a GRF pledge can say it addresses."""

    AFGHANISTAN = "afghanistan"
    BURUNDI = "burundi"
    CENTRAL_AFRICAN_REPUBLIC = "central_african_republic"
    DR_CONGO = "dr_congo"
    MYANMAR_ROHINGYA = "myanmar_rohingya"
    NIGERIA = "nigeria"
    SAHEL = "sahel"
    SOMALIA = "somalia"
    SOUTH_SUDAN = "south_sudan"
    SUDAN = "sudan"
    SYRIA = "syria"
    UKRAINE = "ukraine"
    VENEZUELA = "venezuela"
    YEMEN = "yemen"


class WorkflowState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"


class Stage(StrEnum):
    PLANNING = "planning"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"


class SupportType(StrEnum):
    FINANCIAL = "financial"
    MATERIAL = "material"
    TECHNICAL = "technical"
    PATHWAYS = "pathways"
    POLICY = "policy"
    OTHER = "other"


class TargetGroup(StrEnum):
    MIGRANTS = "migrants"
    REFUGEES = "refugees"
    ASYLUM_SEEKERS = "asylum_seekers"
    IDPS = "idps"
    STATELESS = "stateless"
    RETURNEES = "returnees"
    HOST_COMMUNITIES = "host_communities"


class ReminderKind(StrEnum):
    DIGEST = "digest"  # coordinators: where a forum stands, at each offset
    DRAFT = "draft"  # officials with an unfinished draft for the forum
    INVITATION = "invitation"  # officials of localities with no pledge for the forum yet
    PROGRESS = "progress"  # pledges with no recent progress report, before a progress review
    CLOSING = "closing"  # coordinators, once the deadline has passed


class NoticeKind(StrEnum):
    """A message to someone other than the person whose update caused it."""

    NEW_PLEDGE = "new_pledge"  # coordinators: a pledge was submitted
    RESUBMITTED = "resubmitted"  # coordinators: a pledge came back after changes
    CHANGES = "changes"  # officials: the coordinators asked for changes, with a comment
    DECISION = "decision"  # officials: their pledge was approved or marked delivered
    ACCESS_REQUEST = "access_request"  # coordinators: someone asked to join
    ACCESS_DECISION = "access_decision"  # the person who asked: approved or not
    ACCESS_ENDED = "access_ended"  # a member a coordinator deactivated
    ACCESS_RESTORED = "access_restored"  # a member a coordinator reactivated


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # taken by one sender; not yet handed to the Bot API
    SENDING = "sending"  # handed to the Bot API: after a crash, never resent blindly
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class AccessRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


GCM_OBJECTIVES = range(1, 24)
GCR_OBJECTIVES = range(1, 5)


def _created() -> Any:
    return Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _fk(target: str, *, nullable: bool = True, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target), nullable=nullable, index=index),
    )


class Locality(SQLModel, table=True):
    """A local or regional government (LRG)."""

    __table_args__ = (UniqueConstraint("name_key", "country", name="uq_locality_name_country"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, index=True)
    country: str = Field(max_length=2, index=True)
    kind: str = Field(default=LocalityKind.MUNICIPALITY.value, max_length=32)
    parent_id: int | None = _fk("locality.id")
    # Whether it endorsed the Marrakech Mayors Declaration (2018); None until someone says.
    endorsed_mmd: bool | None = None
    created_at: datetime = _created()


class Member(SQLModel, table=True):
    """A person who has talked to the bot; a role once they are let in."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    display_name: str = Field(default="", max_length=200)
    role: str | None = Field(default=None, max_length=16)
    locality_id: int | None = _fk("locality.id")
    language: str = Field(default="en", max_length=16)
    time_zone: str = Field(default="UTC", max_length=64)
    reminder_hour: int = Field(default=9)
    muted_kinds: list[str] = _json_list()
    active: bool = Field(default=True)  # False: they opted out (/stop) or blocked the bot
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    # Deactivated by a coordinator: no role any more (a stranger to every flow), the one they
    # had kept here for reactivation; only a coordinator or a new invitation lets them back.
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_by_id: int | None = Field(default=None)
    revoked_role: str | None = Field(default=None, max_length=16)
    revoked_locality_id: int | None = Field(default=None)
    told_revoked: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Invite(SQLModel, table=True):
    """A way in: a random token, stored only as its hash."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    locality_id: int | None = _fk("locality.id")
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    uses_left: int = Field(default=1)
    created_by_id: int | None = _fk("member.id")
    created_at: datetime = _created()
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # withdrawn unused


class AccessRequest(SQLModel, table=True):
    """Someone without an invite asking to be let in as an official."""

    __tablename__ = "access_request"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = _fk("member.id", nullable=False)
    name: str = Field(max_length=200)
    position: str = Field(max_length=200)
    locality_name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    status: str = Field(default=AccessRequestStatus.PENDING.value, max_length=16)
    decided_by_id: int | None = _fk("member.id", index=False)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = _created()


class Forum(SQLModel, table=True):
    """A UN forum at which pledges are delivered."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    location: str = Field(default="", max_length=200)
    compacts: list[str] = _json_list()
    starts_on: date | None = None
    ends_on: date | None = None
    pledge_deadline: datetime | None = Field(default=None, sa_type=UtcDateTime)
    deadline_time_zone: str = Field(default="UTC", max_length=64)
    reminder_offsets: list[int] = Field(
        default_factory=lambda: [30, 14, 7, 3, 1], sa_column=Column(JSON, nullable=False)
    )
    is_open: bool = Field(default=True)
    progress_review: bool = Field(default=False)
    # The description's length as this forum's pledge form asks (UNN: 300–3,000); None: ours.
    description_min: int | None = None
    description_max: int | None = None
    # GRF's multistakeholder pledges a pledge to this forum can contribute to, by name.
    multistakeholder_pledges: list[str] = _json_list()
    created_at: datetime = _created()


class Pledge(SQLModel, table=True):
    """A locality's pledge toward one or both compacts."""

    # Status by chat counts a forum's pledges by state and stage, and looks for localities
    # without one: these keep both index-only at 100,000 pledges.
    __table_args__ = (
        # Covering: a forum's summary reads this index, never the wide rows.
        Index(
            "ix_pledge_forum_summary",
            "forum_id",
            "state",
            "stage",
            "locality_id",
            "currency",
            "amount",
        ),
        Index("ix_pledge_locality_forum_state", "locality_id", "forum_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=20, unique=True)
    locality_id: int = _fk("locality.id", nullable=False)
    forum_id: int | None = _fk("forum.id")
    compacts: list[str] = _json_list()
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    # Title and description folded (case, accents, spacing) for searches in any language;
    # kept in step by storage.pledges, which is the only writer of those two fields.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    gcm_objectives: list[int] = _json_list()
    gcr_objectives: list[int] = _json_list()
    support_types: list[str] = _json_list()
    target_groups: list[str] = _json_list()
    starts_on: date | None = None
    ends_on: date | None = None
    ongoing: bool = Field(default=False)
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2), nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    partner_ids: list[int] = _json_list()
    # Partners of every other kind: [{"name": …, "kind": PartnerKind}], in the order added.
    other_partners: list[dict[str, str]] = _json_list()
    pledge_type: str = Field(default=PledgeType.INDIVIDUAL.value, max_length=16)
    matching_reference: str = Field(default="", max_length=40)
    # Who the UN forms name as the pledge's contact; "" until asked.
    contact_name: str = Field(default="", max_length=200)
    contact_title: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)
    contact_phone: str = Field(default="", max_length=32)
    scope: str = Field(default="", max_length=16)
    beneficiary_countries: list[str] = _json_list()
    refugee_situations: list[str] = _json_list()  # RefugeeSituation codes
    project_url: str = Field(default="", max_length=500)
    multistakeholder_pledges: list[str] = _json_list()  # names from its forum's list
    language: str = Field(default="en", max_length=16)
    state: str = Field(default=WorkflowState.DRAFT.value, max_length=20, index=True)
    draft_step: str | None = Field(default=None, max_length=16)
    stage: str = Field(default=Stage.PLANNING.value, max_length=20)
    created_by_id: int = _fk("member.id", nullable=False, index=False)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class PledgePartner(SQLModel, table=True):
    """A partner locality of a joint pledge, kept in step with `Pledge.partner_ids` for lookups."""

    __tablename__ = "pledge_partner"

    pledge_id: int = Field(
        sa_column=Column(Integer, ForeignKey("pledge.id"), primary_key=True, autoincrement=False)
    )
    locality_id: int = Field(
        sa_column=Column(Integer, ForeignKey("locality.id"), primary_key=True, index=True)
    )


class Attachment(SQLModel, table=True):
    """A document sent for a pledge. The project keeps its own copy (`stored_as`, under the
    data directory): Telegram's file id alone may stop working, and exports need the bytes."""

    id: int | None = Field(default=None, primary_key=True)
    pledge_id: int = _fk("pledge.id", nullable=False)
    file_name: str = Field(max_length=255)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    stored_as: str = Field(max_length=300)
    telegram_file_id: str = Field(default="", max_length=200)
    member_id: int | None = _fk("member.id", index=False)
    created_at: datetime = _created()


class PledgeRevision(SQLModel, table=True):
    """One change to a pledge: who, when, and each field's old and new value."""

    __tablename__ = "pledge_revision"

    id: int | None = Field(default=None, primary_key=True)
    pledge_id: int = _fk("pledge.id", nullable=False)
    member_id: int | None = _fk("member.id", index=False)
    action: str = Field(max_length=20)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()


class ProgressReport(SQLModel, table=True):
    """An implementation update on a pledge."""

    __tablename__ = "progress_report"

    id: int | None = Field(default=None, primary_key=True)
    pledge_id: int = _fk("pledge.id", nullable=False)
    stage: str = Field(max_length=20)
    narrative: str = Field(max_length=3000)
    figures: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    member_id: int = _fk("member.id", nullable=False, index=False)
    created_at: datetime = _created()


class Delivery(SQLModel):
    """What every delivered message keeps of its way out: when it is due, its claim, its
    attempts and what became of it (storage/deliveries.py claims and records them alike)."""

    id: int | None = Field(default=None, primary_key=True)
    due_at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16, index=True)
    attempts: int = Field(default=0)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = _created()


class ReminderDelivery(Delivery, table=True):
    """One reminder to one member: claimed before it is sent, so it goes out at most once."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint(
            "forum_id",
            "kind",
            "offset_days",
            "deadline_at",
            "member_id",
            name="uq_reminder_delivery_once",
        ),
    )

    forum_id: int = _fk("forum.id", nullable=False, index=False)
    kind: str = Field(max_length=16)
    offset_days: int
    deadline_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    member_id: int = _fk("member.id", nullable=False)


class SchedulerMark(SQLModel, table=True):
    """Up to when reminders have been planned: after a stop, planning resumes from here."""

    __tablename__ = "scheduler_mark"

    name: str = Field(primary_key=True, max_length=32)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class InboundUpdate(SQLModel, table=True):
    """An update from Telegram (polled or posted), kept until a worker has handled it: whichever
    worker received it, one person's updates are handled in `update_id` order, and a worker
    that died holding one leaves it to another."""

    __tablename__ = "inbound_update"
    __table_args__ = (Index("ix_inbound_update_person", "person", "update_id"),)

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    person: int | None = Field(default=None, sa_type=BigInteger)  # the sender's Telegram id
    payload: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    received_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Set in the transaction that saved what the update said: from then on it is never
    # handled again, even if its worker dies before the row leaves the inbox.
    handled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # What the handled update says back to its person, kept until sent: a worker killed
    # while sending leaves the rest to be sent on restart (`replies_sent` of them went out).
    replies: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    replies_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SendPace(SQLModel, table=True):
    """When this bot may next send a message, shared by every worker: all of them together
    stay under Telegram's overall rate, not each on its own."""

    __tablename__ = "send_pace"

    name: str = Field(primary_key=True, max_length=32)
    next_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class ReferenceCounter(SQLModel, table=True):
    """The last public reference number handed out in a year."""

    __tablename__ = "reference_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0)


class ConversationState(SQLModel, table=True):
    """The step a person is on and what it needs, written at every step."""

    __tablename__ = "conversation_state"

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id"), primary_key=True, autoincrement=False)
    )
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    pledge_id: int | None = _fk("pledge.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _created()


class Notice(Delivery, table=True):
    """A message to another member, written in the same transaction as what caused it and
    delivered after the commit by the reminders' claimed, paced, retried path (an outbox)."""

    __tablename__ = "notice"

    kind: str = Field(max_length=24)
    member_id: int = _fk("member.id", nullable=False)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
