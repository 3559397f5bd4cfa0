"""The words Tandem stores for where things stand, each set named once.

StrEnums: a member is its word (it compares equal to the plain string and is written to the
database, exports and metric labels as that string), so stored values never changed when the
names came in. A value read back from the database is a plain string and compares as before.
"""

from __future__ import annotations

from enum import StrEnum


class CheckInStatus(StrEnum):
    """A check-in's row in the send ledger (`checkins.status`)."""

    DUE = "due"  # planned, waiting to be claimed
    SKIPPED = "skipped"  # the leader asked to skip this one
    CLAIMED = "claimed"  # a sender has it (stale after a while: claimed again)
    SENT = "sent"
    ANSWERED = "answered"
    DECLINED = "declined"
    FAILED = "failed"  # Slack refused it, or tries ran out


class DigestRunStatus(StrEnum):
    """A channel's digest for one period (`digest_runs.status`)."""

    PREVIEWED = "previewed"  # content fixed by a preview, not posted yet
    CLAIMED = "claimed"
    POSTED = "posted"
    UNSENT = "unsent"  # Slack busy or unreachable: posted by a later tick
    FAILED = "failed"


class PeerGroupStatus(StrEnum):
    """An introduction (`peer_groups.status`)."""

    PLANNED = "planned"
    SENDING = "sending"
    RESENDING = "resending"  # a crash left it mid-send; its sender looks before posting
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # erasures left fewer than two members


class Sharing(StrEnum):
    """Where a journal entry may count (`journal_entries.sharing`); its author decides."""

    PRIVATE = "private"
    TEAM = "team"  # may count towards anonymous team themes
    PEERS = "peers"  # may inform peer matching


class LeaderStatus(StrEnum):
    """A person's part in Tandem (`leaders.status`)."""

    INVITED = "invited"  # imported without consent: invited once, nothing else
    ACTIVE = "active"
    LEFT = "left"
    PEERS_ONLY = "peers-only"  # peer introductions without check-ins


class OutboxStatus(StrEnum):
    """A message with no ledger of its own, in the outbox's (`outbox_sends.status`)."""

    SENDING = "sending"
    RETRY = "retry"  # Slack busy or unreachable: a later call tries again
    SENT = "sent"
    FAILED = "failed"


class SendKind(StrEnum):
    """What a post through the outbox is: its metric label, failure record and key prefix."""

    INVITATION = "invitation"
    CHECKIN = "checkin"
    REMINDER = "reminder"
    THANKS = "thanks"
    ANSWER = "answer"
    THINKING = "thinking"
    RATE_LIMITED = "rate_limited"
    ERASED = "erased"
    ERASED_NOTE = "erased_note"
    PEER_INTRODUCTION = "peer_introduction"
    PEER_SAT_OUT = "peer_sat_out"
    PEER_FOLLOWUP = "peer_followup"
    PEER_PAUSE_OFFER = "peer_pause_offer"
    PEER_DECLINE_NOTE = "peer_decline_note"
    PEER_TAKEAWAY_SAVED = "peer_takeaway_saved"
    DIGEST = "digest"
    DIGEST_DETAIL = "digest_detail"
