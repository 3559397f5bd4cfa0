"""Everything the sandbox workspace remembers, as plain data so it can be saved and reloaded.

Messages, users and views are stored in the very shapes Slack returns them, so the Web API
can hand out copies without translation.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import asdict, dataclass, field
from typing import Any

CHANNEL_TYPES = {"public": "channel", "private": "group", "im": "im", "mpim": "mpim"}


@dataclass
class Conversation:
    """A channel, private channel, IM or MPIM with its messages (replies included) in ts order."""

    id: str
    name: str
    kind: str  # one of CHANNEL_TYPES
    members: list[str]
    created: int
    creator: str = ""
    topic: str = ""
    purpose: str = ""
    messages: list[dict] = field(default_factory=list)

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` Slack puts on message events from this conversation."""
        return CHANNEL_TYPES[self.kind]

    @property
    def is_direct(self) -> bool:
        return self.kind in ("im", "mpim")

    def find(self, ts: str | None) -> dict | None:
        return next((m for m in self.messages if m["ts"] == ts), None) if ts else None

    def top_level(self) -> list[dict]:
        """What the channel itself shows: roots, plain messages and broadcast replies."""
        return [
            m
            for m in self.messages
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]

    def thread(self, root_ts: str) -> list[dict]:
        """The root followed by its replies, as ``conversations.replies`` returns them."""
        root = self.find(root_ts)
        replies = [m for m in self.messages if m.get("thread_ts") == root_ts and m["ts"] != root_ts]
        return ([root] if root else []) + replies

    def to_api(self, viewer: str, *, include_num_members: bool = False) -> dict:
        """The conversation object of ``conversations.info`` as ``viewer`` sees it."""
        if self.kind == "im":
            other = next((m for m in self.members if m != viewer), viewer)
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": other,
                "is_user_deleted": False,
                "priority": 0,
            }
        info: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": self.kind == "public",
            "is_group": self.kind == "private",
            "is_im": False,
            "is_mpim": self.kind == "mpim",
            "is_private": self.kind != "public",
            "created": self.created,
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "is_member": viewer in self.members,
            "creator": self.creator,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }
        if include_num_members:
            info["num_members"] = len(self.members)
        return info


@dataclass
class WorkspaceState:
    """All mutable state of one sandbox workspace."""

    users: dict[str, dict] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    ephemeral: dict[str, list[dict]] = field(default_factory=dict)  # user id -> messages
    views: dict[str, dict] = field(default_factory=dict)  # open modals and home tabs by id
    view_owners: dict[str, str] = field(default_factory=dict)  # view id -> user id
    modal_stacks: dict[str, list[str]] = field(default_factory=dict)  # user id -> view ids
    home_views: dict[str, str] = field(default_factory=dict)  # user id -> view id
    files: dict[str, dict] = field(default_factory=dict)  # file id -> record with "content"
    triggers: dict[str, dict] = field(default_factory=dict)  # trigger id -> user, issued_at
    response_urls: dict[str, dict] = field(default_factory=dict)  # token -> reply context
    calls: list[dict] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)  # errors Slack would show the user
    counters: dict[str, int] = field(default_factory=dict)
    last_ts_micros: int = 0

    def to_dict(self) -> dict:
        """A JSON-ready copy; file bytes become base64 text."""
        data = asdict(self)
        for record in data["files"].values():
            if isinstance(record.get("content"), bytes):
                record["content"] = base64.b64encode(record["content"]).decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> WorkspaceState:
        data = copy.deepcopy(data)
        data["conversations"] = {
            cid: Conversation(**conv) for cid, conv in data.get("conversations", {}).items()
        }
        for record in data.get("files", {}).values():
            if isinstance(record.get("content"), str):
                record["content"] = base64.b64decode(record["content"])
        return cls(**data)
