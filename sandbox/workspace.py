"""A local Slack workspace: the state, the people in it, and what Slack sends the app.

Tandem talks to it exactly as to Slack: its ``WebClient`` calls the Web API served by
:class:`WorkspaceServer`, and the workspace POSTs signed Events API, slash-command and
interactivity requests to ``app_url``. Tests (and later a browser sandbox) act as people
through the ``user_*``/``run_*``/``click_*``/``submit_*`` methods and inspect the results.
"""

from __future__ import annotations

import copy
import hashlib
import json
import mimetypes
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sandbox.blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_TEXT,
    BadJson,
    block_errors,
    find_element,
    normalize_blocks,
    parse_json_arg,
    selection,
    view_errors,
    view_state,
)
from sandbox.delivery import FORM_TYPE, JSON_TYPE, AppResponse, Deliverer
from sandbox.state import Conversation, WorkspaceState
from sandbox.webapi import MAX_MODAL_STACK, ApiError, WebApiMethods

SLACKBOT = "USLACKBOT"
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60
_ALNUM = string.ascii_letters + string.digits
_MENTION = re.compile(r"(<@[UW][A-Z0-9]+>)")
_TZ_LABELS = {
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "IST": "Irish Standard Time",
    "UTC": "Coordinated Universal Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
}


def _handle(real_name: str) -> str:
    """Slack's ``name`` is a lower-case handle, not the person's display name."""
    return re.sub(r"[^a-z0-9._-]", "", real_name.lower().replace(" ", ".")) or "user"


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, bytes) for each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    parts = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        name = re.search(r'name="([^"]*)"', disposition)
        parts.append(
            (name.group(1) if name else "", part.get_filename(), part.get_payload(decode=True))
        )
    return parts


class Workspace(WebApiMethods):
    """One Slack workspace with the Tandem app installed; all state sits behind one lock.

    Timing knobs mirror Slack's: ``ack_timeout`` (3 s) for every delivery, up to
    ``max_retries`` Events API redeliveries ``retry_delay`` apart, triggers valid for
    ``trigger_ttl`` seconds. ``clock`` measures trigger age and rate-limit windows, so a
    test can move time forward without sleeping.
    """

    def __init__(
        self,
        signing_secret: str,
        bot_token: str,
        team_id: str = "T0TANDEM",
        bot_user_id: str = "UTANDEMBOT",
        bot_id: str = "BTANDEM",
        app_id: str = "A0TANDEM",
        *,
        team_name: str = "Tandem Sandbox",
        team_domain: str = "tandem-sandbox",
        bot_name: str = "tandem",
        verification_token: str = "sandbox-verification-token",
        app_url: str | None = None,
        ack_timeout: float = 3.0,
        retry_delay: float = 0.2,
        max_retries: int = 3,
        delivery_workers: int = 1,
        trigger_ttl: float = 3.0,
        clock: Callable[[], float] = time.time,
    ):
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_name = bot_name
        self.verification_token = verification_token
        self.app_url = app_url
        self.base_url = "http://127.0.0.1"  # replaced by WorkspaceServer.start()
        self.trigger_ttl = trigger_ttl
        self.clock = clock
        self.state = WorkspaceState()
        self._lock = threading.RLock()
        self._faults: dict[str, list[tuple[str, int, int | None]]] = {}
        self._transport_faults: dict[str, list[str]] = {}
        self.hang_seconds = 2.0  # how long a "timeout" fault holds its answer back
        self._limits: tuple[float | None, int | None] = (None, None)
        self._channel_free_at: dict[str, float] = {}
        self._method_windows: dict[str, list[float]] = {}
        self._last_activity = time.monotonic()
        # Response URLs of slash commands whose immediate reply is still on its way: a use of
        # one waits for that reply, as Slack shows a command's reply before acting on its URL.
        self._replies_pending: dict[str, threading.Event] = {}
        self._deliverer = Deliverer(
            target=lambda: self.app_url,
            signing_secret=signing_secret,
            record=self._record_delivery,
            ack_timeout=ack_timeout,
            retry_delay=retry_delay,
            max_retries=max_retries,
            workers=delivery_workers,
        )
        self._add_bot_user()

    # ---- people and places ----------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        tz: str = "Europe/London",
        organisation: str = "",
        *,
        display_name: str | None = None,
        email: str | None = None,
        title: str | None = None,
        is_admin: bool = False,
    ) -> dict:
        """Add a person; returns the ``users.info`` user object."""
        zone = ZoneInfo(tz)
        now = datetime.now(zone)
        abbreviation = now.tzname() or tz
        display = display_name if display_name is not None else name.split(" ")[0]
        profile = {
            "title": title if title is not None else organisation,
            "real_name": name,
            "real_name_normalized": name,
            "display_name": display,
            "display_name_normalized": display,
            "first_name": name.split(" ")[0],
            "last_name": " ".join(name.split(" ")[1:]),
            "team": self.team_id,
        }
        if email:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": _handle(name),
            "deleted": False,
            "color": "9f69e7",
            "real_name": name,
            "tz": tz,
            "tz_label": _TZ_LABELS.get(abbreviation, abbreviation),
            "tz_offset": int(now.utcoffset().total_seconds()),
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": int(self.clock()),
            "is_email_confirmed": True,
        }
        with self._lock:
            self.state.users[user_id] = user
            return copy.deepcopy(user)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Iterable[str] = (),
        bot_member: bool = True,
        *,
        private: bool | None = None,
        topic: str = "",
        purpose: str = "",
    ) -> dict:
        """Add a channel (private when ``private`` or the id starts with G)."""
        is_private = private if private is not None else channel_id.startswith("G")
        members = list(members) + ([self.bot_user_id] if bot_member else [])
        with self._lock:
            unknown = [m for m in members if m not in self.state.users]
            if unknown:
                raise ValueError(f"unknown users {unknown}; add_user them first")
            conversation = Conversation(
                id=channel_id,
                name=name,
                kind="private" if is_private else "public",
                members=members,
                created=int(self.clock()),
                creator=members[0] if members else "",
                topic=topic,
                purpose=purpose,
            )
            self.state.conversations[channel_id] = conversation
            return conversation.to_api(self.bot_user_id)

    def join_channel(self, channel_id: str, user_id: str) -> None:
        """A person joins a channel (no event is sent: Tandem reads members when it needs them)."""
        with self._lock:
            members = self.state.conversations[channel_id].members
            if user_id not in members:
                members.append(user_id)

    def leave_channel(self, channel_id: str, user_id: str) -> None:
        """A person leaves a channel."""
        with self._lock:
            members = self.state.conversations[channel_id].members
            if user_id in members:
                members.remove(user_id)

    def invite_bot(self, channel_id: str, inviter: str | None = None) -> None:
        """Add the bot to a channel; the app gets ``member_joined_channel`` like on Slack."""
        with self._lock:
            conversation = self._known_conversation(channel_id)
            if self.bot_user_id in conversation.members:
                return
            conversation.members.append(self.bot_user_id)
            event = {
                "type": "member_joined_channel",
                "user": self.bot_user_id,
                "channel": channel_id,
                "channel_type": "C" if conversation.kind == "public" else "G",
                "team": self.team_id,
                "event_ts": self._new_ts(),
            }
            if inviter:
                event["inviter"] = inviter
            self._emit_event(event)

    def open_dm(self, user_id: str) -> str:
        """The IM between ``user_id`` and the bot (created on first use; stable id)."""
        with self._lock:
            self._person(user_id)
            return self._open_direct([user_id]).id

    # ---- acting as people -----------------------------------------------------------------

    def user_posts(
        self, user_id: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict:
        """A person posts; the app gets ``message`` (and ``app_mention`` if it is mentioned)."""
        with self._lock:
            conversation = self._conversation_of(user_id, channel)
            message = {
                "client_msg_id": str(uuid.uuid4()),
                "type": "message",
                "text": text,
                "user": user_id,
                "ts": self._new_ts(),
                "blocks": self._rich_text(text),
                "team": self.team_id,
            }
            self._store_message(conversation, message, thread_ts=thread_ts)
            self._emit_message_event(conversation, message)
            mentioned = f"<@{self.bot_user_id}>" in text
            if mentioned and conversation.kind != "im" and self._bot_in(conversation):
                mention = {k: v for k, v in message.items() if k not in ("parent_user_id",)}
                mention.update(type="app_mention", channel=conversation.id, event_ts=message["ts"])
                self._emit_event(mention)
            return self._inspect(conversation.id, message)

    def user_mentions_bot(
        self, user_id: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict:
        """``user_posts`` with the bot mention Slack's composer inserts before the text."""
        return self.user_posts(user_id, channel, f"<@{self.bot_user_id}> {text}", thread_ts)

    def user_reacts(self, user_id: str, channel: str, ts: str, name: str) -> None:
        """A person adds an emoji reaction; the app gets ``reaction_added`` if in the channel."""
        with self._lock:
            conversation = self._conversation_of(user_id, channel)
            message = conversation.find(ts)
            if message is None:
                raise ValueError(f"no message {ts} in {channel}")
            self._add_reaction(conversation, message, user_id, name)
            if self._bot_in(conversation):
                self._emit_event(
                    {
                        "type": "reaction_added",
                        "user": user_id,
                        "reaction": name.strip(":"),
                        "item_user": message.get("user"),
                        "item": {"type": "message", "channel": conversation.id, "ts": ts},
                        "event_ts": self._new_ts(),
                    }
                )

    def open_app_home(self, user_id: str, tab: str = "home") -> None:
        """A person opens the app's Home (or Messages) tab: ``app_home_opened``."""
        with self._lock:
            self._person(user_id)
            event = {
                "type": "app_home_opened",
                "user": user_id,
                "channel": self._open_direct([user_id]).id,
                "tab": tab,
                "event_ts": self._new_ts(),
            }
            home_id = self.state.home_views.get(user_id)
            if tab == "home" and home_id:
                event["view"] = copy.deepcopy(self.state.views[home_id])
            self._emit_event(event)

    def run_slash_command(
        self, user_id: str, channel: str, command: str, text: str = ""
    ) -> AppResponse:
        """A person runs ``command``; the app's immediate answer is shown like Slack shows it."""
        with self._lock:
            user = self._person(user_id)
            conversation = self._conversation_of(user_id, channel)
            context = {"user": user_id, "channel": conversation.id, "source": None}
            form = {
                "token": self.verification_token,
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": conversation.id,
                "channel_name": "directmessage" if conversation.kind == "im" else conversation.name,
                "user_id": user_id,
                "user_name": user["name"],
                "command": command,
                "text": text,
                "api_app_id": self.app_id,
                "is_enterprise_install": "false",
                "response_url": self._new_response_url(context),
                "trigger_id": self._issue_trigger(user_id),
            }
            token = form["response_url"].rsplit("/", 1)[-1]
            replied = self._replies_pending[token] = threading.Event()
        try:
            response = self._deliverer.send_now(
                "command", urlencode(form).encode(), FORM_TYPE, {"type": command}
            )
        except BaseException:
            replied.set()
            raise
        with self._lock:
            if not response.ok:
                reason = (
                    "operation_timeout" if response.error == "http_timeout" else "dispatch_failed"
                )
                self._report_problem(
                    user_id, conversation.id, f'{command} failed with the error "{reason}"'
                )
            elif response.body.strip():
                reply = response.json if isinstance(response.json, dict) else None
                self._apply_reply(context, reply or {"text": response.body})
            self._replies_pending.pop(token, None)
        replied.set()
        return response

    def click_button(
        self, user_id: str, target: dict | str, action_id: str, value: Any = None
    ) -> AppResponse:
        """A person uses an element of a message, ephemeral message or view: ``block_actions``.

        ``target`` is a dict from :meth:`messages`, :meth:`ephemeral`, :meth:`views` or
        :meth:`home_view` (or a view id). ``value`` overrides a button's value, or picks the
        option(s)/date/user of a select, checkbox, radio or picker element.
        """
        with self._lock:
            user = self._person(user_id)
            payload: dict[str, Any] = {
                "type": "block_actions",
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
            }
            view = self._view_target(target)
            if view is not None:
                blocks = view["blocks"]
                payload["container"] = {"type": "view", "view_id": view["id"]}
            else:
                channel, message, ephemeral = self._message_target(user_id, target)
                blocks = message.get("blocks", [])
                payload["container"] = {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": channel.id,
                    "is_ephemeral": ephemeral,
                }
            found = find_element(blocks, action_id)
            if found is None:
                raise ValueError(f"no element with action_id {action_id!r} in {target!r}")
            payload["trigger_id"] = self._issue_trigger(user_id)
            payload["team"] = {"id": self.team_id, "domain": self.team_domain}
            payload["enterprise"] = None
            payload["is_enterprise_install"] = False
            if view is not None:
                payload["view"] = copy.deepcopy(view)
            else:
                payload["channel"] = {"id": channel.id, "name": self._channel_name(channel)}
                if not ephemeral:
                    payload["message"] = copy.deepcopy(message)
                payload["state"] = {"values": {}}
                source = {"ts": message["ts"], "ephemeral": ephemeral}
                payload["response_url"] = self._new_response_url(
                    {"user": user_id, "channel": channel.id, "source": source}
                )
            payload["actions"] = [self._action(*found, value)]
        return self._interact(user_id, payload, label={"type": "block_actions"})

    def submit_view(
        self, user_id: str, view_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> AppResponse:
        """A person submits an open modal; the app's ``response_action`` is then applied.

        ``values`` maps block_id -> action_id -> input (text, option value(s), date, ...);
        inputs left out keep their initial values.
        """
        with self._lock:
            user = self._person(user_id)
            if view_id not in self.state.modal_stacks.get(user_id, []):
                raise ValueError(f"{view_id} is not an open modal of {user_id}")
            view = self.state.views[view_id]
            view["state"] = view_state(view, values or {})
            payload = {
                "type": "view_submission",
                "team": {"id": self.team_id, "domain": self.team_domain},
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "trigger_id": self._issue_trigger(user_id),
                "view": copy.deepcopy(view),
                "response_urls": [],
                "enterprise": None,
                "is_enterprise_install": False,
            }
        response = self._interact(user_id, payload, label={"type": "view_submission"})
        if response.ok:
            with self._lock:
                self._apply_response_action(user_id, view_id, response.json)
        return response

    def close_view(self, user_id: str, view_id: str) -> AppResponse | None:
        """A person closes a modal; ``view_closed`` is sent when the view asked for it."""
        with self._lock:
            user = self._person(user_id)
            stack = self.state.modal_stacks.get(user_id, [])
            if view_id not in stack:
                raise ValueError(f"{view_id} is not an open modal of {user_id}")
            view = copy.deepcopy(self.state.views[view_id])
            cleared = view["clear_on_close"]
            self._close_modals(user_id, stack[0] if cleared else view_id)
            if not view["notify_on_close"]:
                return None
            payload = {
                "type": "view_closed",
                "team": {"id": self.team_id, "domain": self.team_domain},
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "view": view,
                "is_cleared": cleared,
                "is_enterprise_install": False,
            }
        return self._interact(user_id, payload, label={"type": "view_closed"})

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger, as if the person had just interacted with the app."""
        with self._lock:
            return self._issue_trigger(user_id)

    def issue_response_url(self, user_id: str, channel: str) -> str:
        """A fresh response URL for a reply in `channel`, as a slash command would carry."""
        with self._lock:
            return self._new_response_url({"user": user_id, "channel": channel, "source": None})

    def wait_idle(self, timeout: float = 10, quiet: float = 0.0) -> None:
        """Block until no delivery is queued or in flight (retries included).

        ``quiet`` also waits until the app has made no Web API call for that many seconds,
        for apps that acknowledge first and work afterwards. Raises TimeoutError.
        """
        deadline = time.monotonic() + timeout
        while True:
            if not self._deliverer.wait_idle(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"deliveries still pending after {timeout} s")
            silent_for = time.monotonic() - self._last_activity
            if silent_for >= quiet and self._deliverer.wait_idle(0):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the app was still busy after {timeout} s")
            time.sleep(min(0.05, max(0.0, quiet - silent_for)))

    # ---- inspection -----------------------------------------------------------------------

    @property
    def calls(self) -> list[dict]:
        """Every Web API call so far: method, params, token, at (and status, ok, error)."""
        with self._lock:
            return copy.deepcopy(self.state.calls)

    def calls_to(self, method: str) -> list[dict]:
        return [call for call in self.calls if call["method"] == method]

    @property
    def deliveries(self) -> list[dict]:
        """One entry per delivery attempt: kind, type, status, retry_num, latency_ms, error."""
        with self._lock:
            return copy.deepcopy(self.state.deliveries)

    @property
    def problems(self) -> list[dict]:
        """Errors Slack would have shown a person (timeouts, failed dispatch, bad views)."""
        with self._lock:
            return copy.deepcopy(self.state.problems)

    def messages(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        """Channel messages oldest first; with ``thread_ts``, the root then its replies."""
        with self._lock:
            conversation = self._known_conversation(channel)
            found = conversation.thread(thread_ts) if thread_ts else conversation.top_level()
            return [self._inspect(conversation.id, m) for m in found]

    def ephemeral(self, user_id: str) -> list[dict]:
        """Ephemeral messages shown to a person, oldest first (each with its channel)."""
        with self._lock:
            return copy.deepcopy(self.state.ephemeral.get(user_id, []))

    def views(self, user_id: str) -> list[dict]:
        """The person's open modal stack, bottom first."""
        with self._lock:
            stack = self.state.modal_stacks.get(user_id, [])
            return [copy.deepcopy(self.state.views[v]) for v in stack]

    def home_view(self, user_id: str) -> dict | None:
        with self._lock:
            view_id = self.state.home_views.get(user_id)
            return copy.deepcopy(self.state.views[view_id]) if view_id else None

    def files(self, user_id: str | None = None) -> list[dict]:
        """Completed uploads with their ``content`` bytes and ``channel`` (first shared to).

        With ``user_id``: files that person uploaded or that were shared in their IM.
        """
        with self._lock:
            dm = self._direct_conversation_id([user_id]) if user_id else None
            found = []
            for record in self.state.files.values():
                if not record["completed"]:
                    continue
                if user_id and record["user"] != user_id and dm not in record["channels"]:
                    continue
                channel = record["channels"][0] if record["channels"] else None
                found.append({**copy.deepcopy(record), "channel": channel})
            return found

    def people(self) -> list[dict]:
        """Everyone in the workspace (the bot included), as ``users.info`` shows them."""
        with self._lock:
            return copy.deepcopy(list(self.state.users.values()))

    def conversations_of(self, user_id: str) -> list[dict]:
        """The conversations a person belongs to, for a sidebar: id, name, kind, members,
        topic, purpose and the ts of the latest top-level message (or None)."""
        with self._lock:
            found = []
            for conversation in self.state.conversations.values():
                if user_id not in conversation.members:
                    continue
                top = conversation.top_level()
                found.append(
                    {
                        "id": conversation.id,
                        "name": conversation.name,
                        "kind": conversation.kind,
                        "members": list(conversation.members),
                        "topic": conversation.topic,
                        "purpose": conversation.purpose,
                        "latest_ts": top[-1]["ts"] if top else None,
                    }
                )
            return found

    @property
    def revision(self) -> tuple[float, int, int]:
        """Changes whenever something a person could see may have changed, so a live view
        knows when to refresh. Read without the lock: a torn read costs one extra refresh."""
        return (self._last_activity, self.state.last_ts_micros, len(self.state.problems))

    def reactions(self, channel: str, ts: str) -> list[dict]:
        with self._lock:
            message = self._known_conversation(channel).find(ts)
            if message is None:
                raise ValueError(f"no message {ts} in {channel}")
            return copy.deepcopy(message.get("reactions", []))

    # ---- fault injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str = "internal_error",
        times: int = 1,
        retry_after: int = 1,
        status: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        ``ratelimited`` answers HTTP 429 with ``Retry-After``; other errors HTTP 200 with
        ``{"ok": false}`` unless ``status`` says otherwise.
        """
        with self._lock:
            self._faults.setdefault(method, []).extend([(error, retry_after, status)] * times)

    def drop_next(self, method: str, fault: str = "reset", times: int = 1, after: int = 0) -> None:
        """Let ``after`` calls of ``method`` through, then make ``times`` fail at the transport
        after the call was carried out, as a real network does: Slack acted, the client never
        heard. Queued after any faults already waiting for ``method``.

        ``reset`` closes the connection without an answer; ``timeout`` holds the answer back
        for ``hang_seconds``, longer than a client with a shorter timeout waits.
        """
        if fault not in ("reset", "timeout"):
            raise ValueError(fault)
        with self._lock:
            queue = self._transport_faults.setdefault(method, [])
            queue.extend([None] * after + [fault] * times)

    def take_transport_fault(self, method: str) -> str | None:
        """The transport fault due for this call of ``method``, if any (used by the server)."""
        with self._lock:
            faults = self._transport_faults.get(method)
            return faults.pop(0) if faults else None

    def rate_limit(
        self, per_channel_per_second: float | None = 1.0, workspace_per_minute: int | None = None
    ) -> None:
        """Enforce Slack-like limits: chat.postMessage per channel, and per method per minute.

        Calls beyond the allowance get HTTP 429 with an integer ``Retry-After`` (>= 1).
        Passing None for both switches limiting off.
        """
        with self._lock:
            self._limits = (per_channel_per_second, workspace_per_minute)
            self._channel_free_at.clear()
            self._method_windows.clear()

    # ---- persistence and lifecycle --------------------------------------------------------

    def snapshot(self) -> dict:
        """The whole state as JSON-ready data (configuration is not included)."""
        with self._lock:
            return {"version": 1, "state": self.state.to_dict()}

    def restore(self, snapshot: dict) -> None:
        with self._lock:
            self.state = WorkspaceState.from_dict(snapshot["state"])

    def close(self) -> None:
        """Stop the delivery workers (queued deliveries are finished first)."""
        self._deliverer.close()

    # ---- endpoints other than the Web API (called by the HTTP server) ---------------------

    def receive_upload(self, file_id: str, body: bytes, content_type: str) -> tuple[int, str]:
        """The upload URL of ``files.getUploadURLExternal``: raw bytes or multipart."""
        if content_type.startswith("multipart/form-data"):
            parts = parse_multipart(body, content_type)
            with_files = [p for p in parts if p[1] is not None or p[0] == "file"]
            body = (with_files or parts or [("", None, b"")])[0][2]
        with self._lock:
            record = self.state.files.get(file_id)
            if record is None or record["completed"]:
                return 404, "file_not_found"
            record["content"] = body
            record["size"] = len(body)
            return 200, f"OK - {len(body)}"

    def handle_response_url(self, token: str, payload: Any) -> tuple[int, str]:
        """A POST to a ``response_url``: at most 5 uses within 30 minutes, like Slack's."""
        with self._lock:
            replied = self._replies_pending.get(token)
        if replied is not None:  # the command's own reply first (see __init__)
            replied.wait(timeout=10)
        with self._lock:
            self._last_activity = time.monotonic()
            context = self.state.response_urls.get(token)
            if context is None or self.clock() - context["created"] > RESPONSE_URL_LIFETIME:
                return 404, "expired_url"
            if context["uses"] >= RESPONSE_URL_USES:
                return 404, "used_url"
            if not isinstance(payload, dict):
                return 400, "invalid_payload"
            context["uses"] += 1
            return self._apply_reply(context, payload)

    def file_content(self, file_id: str, token: str | None) -> bytes | None:
        """Bytes behind a file's ``url_private`` (bot token required, as on Slack)."""
        with self._lock:
            record = self.state.files.get(file_id)
            if token != self.bot_token or record is None or not record["completed"]:
                return None
            return record["content"] or b""

    # ---- internals: ids, time, lookups ----------------------------------------------------

    def _count(self, name: str) -> int:
        self.state.counters[name] = self.state.counters.get(name, 0) + 1
        return self.state.counters[name]

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self._count(prefix):08X}"

    def _new_ts(self) -> str:
        """Message timestamps: wall-clock microseconds, strictly increasing."""
        micros = max(int(time.time() * 1_000_000), self.state.last_ts_micros + 1)
        self.state.last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @staticmethod
    def _short_id() -> str:
        return "".join(secrets.choice(_ALNUM) for _ in range(5))

    def _add_bot_user(self) -> None:
        self.state.users[self.bot_user_id] = {
            "id": self.bot_user_id,
            "team_id": self.team_id,
            "name": self.bot_name,
            "deleted": False,
            "real_name": self.bot_name.capitalize(),
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
            "profile": {
                "real_name": self.bot_name.capitalize(),
                "display_name": "",
                "bot_id": self.bot_id,
                "api_app_id": self.app_id,
                "always_active": True,
                "team": self.team_id,
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": True,
            "is_app_user": False,
            "updated": int(self.clock()),
        }

    def _person(self, user_id: str) -> dict:
        user = self.state.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; add_user it first")
        return user

    def _user_ref(self, user: dict) -> dict:
        return {
            "id": user["id"],
            "username": user["name"],
            "name": user["name"],
            "team_id": self.team_id,
        }

    def _known_conversation(self, channel: str) -> Conversation:
        conversation = self.state.conversations.get(channel)
        if conversation is None:
            raise ValueError(f"unknown channel {channel}")
        return conversation

    def _conversation_of(self, user_id: str, channel: str) -> Conversation:
        """A conversation a person acts in; they must belong to it."""
        self._person(user_id)
        conversation = self._known_conversation(channel)
        if user_id not in conversation.members:
            raise ValueError(f"{user_id} is not a member of {channel}")
        return conversation

    def _bot_in(self, conversation: Conversation) -> bool:
        return self.bot_user_id in conversation.members

    def _channel_name(self, conversation: Conversation) -> str:
        return "directmessage" if conversation.kind == "im" else conversation.name

    def _lookup(self, ref: str | None) -> Conversation | None:
        """A conversation by id, by ``#name``/name, or a user id meaning the IM with them."""
        if not ref:
            return None
        ref = str(ref)
        if ref[0] in "UW" and ref in self.state.users and ref != self.bot_user_id:
            return self._open_direct([ref])
        if ref in self.state.conversations:
            return self.state.conversations[ref]
        name = ref.lstrip("#")
        return next((c for c in self.state.conversations.values() if c.name == name), None)

    def _visible_conversation(self, ref: str | None) -> Conversation:
        """A conversation the bot may see: public ones, and private ones it belongs to."""
        conversation = self._lookup(ref)
        if conversation is None or (
            conversation.kind != "public" and not self._bot_in(conversation)
        ):
            raise ApiError("channel_not_found")
        return conversation

    def _member_conversation(self, ref: str | None) -> Conversation:
        """A conversation the bot may post to or read: it must be a member."""
        conversation = self._visible_conversation(ref)
        if not self._bot_in(conversation):
            raise ApiError("not_in_channel")
        return conversation

    def _direct_conversation_id(self, user_ids: list[str]) -> str:
        """Stable ids: ``D…`` for the IM with one person, ``G…`` for a group DM."""
        people = sorted(set(user_ids) - {self.bot_user_id})
        digest = hashlib.sha1(",".join(people).encode()).hexdigest()[:10].upper()
        return ("D" if len(people) == 1 else "G") + digest

    def _open_direct(self, user_ids: list[str]) -> Conversation:
        conversation_id = self._direct_conversation_id(user_ids)
        conversation = self.state.conversations.get(conversation_id)
        if conversation is None:
            people = sorted(set(user_ids) - {self.bot_user_id})
            is_im = len(people) == 1
            name = (
                people[0]
                if is_im
                else "mpdm-" + "--".join(self.state.users[p]["name"] for p in people) + "-1"
            )
            conversation = Conversation(
                id=conversation_id,
                name=name,
                kind="im" if is_im else "mpim",
                members=people + [self.bot_user_id],
                created=int(self.clock()),
            )
            self.state.conversations[conversation_id] = conversation
        return conversation

    def _inspect(self, channel_id: str, message: dict) -> dict:
        """A caller's copy of a stored message, labelled with its channel."""
        return {**copy.deepcopy(message), "channel": channel_id}

    def _permalink(self, conversation: Conversation, message: dict) -> str:
        link = f"{self.base_url}/archives/{conversation.id}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") not in (None, message["ts"]):
            link += f"?thread_ts={message['thread_ts']}&cid={conversation.id}"
        return link

    # ---- internals: messages --------------------------------------------------------------

    def _bot_identity(self) -> dict:
        return {
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "icons": {},
                "deleted": False,
                "updated": int(self.clock()),
                "team_id": self.team_id,
            },
        }

    def _compose(self, params: dict, keep_blocks_of: dict | None = None) -> dict:
        """Validated message content (text, blocks, attachments, metadata) from arguments."""
        text = params.get("text") or params.get("markdown_text") or ""
        content: dict[str, Any] = {"text": text}
        if params.get("blocks") not in (None, ""):
            try:
                blocks = parse_json_arg(params["blocks"])
            except BadJson as exc:
                raise ApiError("invalid_blocks_format") from exc
            problems = block_errors(blocks, limit=MAX_MESSAGE_BLOCKS)
            if problems:
                raise ApiError(
                    "invalid_blocks",
                    errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )
            content["blocks"] = normalize_blocks(blocks, self._short_id)
        elif keep_blocks_of and "blocks" in keep_blocks_of:
            content["blocks"] = keep_blocks_of["blocks"]
        for key, error in (
            ("attachments", "invalid_attachments"),
            ("metadata", "invalid_metadata"),
        ):
            if params.get(key) not in (None, ""):
                try:
                    content[key] = parse_json_arg(params[key])
                except BadJson as exc:
                    raise ApiError(error) from exc
        if not text and not content.get("blocks") and not content.get("attachments"):
            raise ApiError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise ApiError("msg_too_long")
        return content

    def _rich_text(self, text: str) -> list[dict]:
        """The rich_text block Slack's composer attaches to a typed message."""
        elements = []
        for part in _MENTION.split(text):
            if _MENTION.fullmatch(part):
                elements.append({"type": "user", "user_id": part[2:-1]})
            elif part:
                elements.append({"type": "text", "text": part})
        section = {"type": "rich_text_section", "elements": elements}
        return [{"type": "rich_text", "block_id": self._short_id(), "elements": [section]}]

    def _store_message(
        self,
        conversation: Conversation,
        message: dict,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> None:
        """Append a message; replies attach to the thread root and update its counters."""
        if thread_ts:
            root = conversation.find(thread_ts)
            if root is not None and root.get("thread_ts") not in (None, root["ts"]):
                root = conversation.find(root["thread_ts"])  # a reply's ts: use its parent
            if root is None:
                raise ApiError("thread_not_found")
            message["thread_ts"] = root["ts"]
            message["parent_user_id"] = root.get("user")
            if broadcast:
                message["subtype"] = "thread_broadcast"
            root["thread_ts"] = root["ts"]
            root["reply_count"] = root.get("reply_count", 0) + 1
            reply_users = root.setdefault("reply_users", [])
            if message.get("user") not in reply_users:
                reply_users.append(message.get("user"))
            root["reply_users_count"] = len(reply_users)
            root["latest_reply"] = message["ts"]
            root.setdefault("is_locked", False)
        conversation.messages.append(message)

    def _emit_message_event(self, conversation: Conversation, message: dict) -> None:
        """Slack tells the app about every message where the bot is, its own included."""
        if self._bot_in(conversation):
            event = {
                **copy.deepcopy(message),
                "channel": conversation.id,
                "event_ts": message["ts"],
                "channel_type": conversation.channel_type,
            }
            self._emit_event(event)

    def _own_message(self, conversation: Conversation, ts: str | None, error: str) -> dict:
        message = conversation.find(ts)
        if message is None:
            raise ApiError("message_not_found")
        if message.get("bot_id") != self.bot_id:
            raise ApiError(error)
        return message

    def _edit_message(self, conversation: Conversation, message: dict, content: dict) -> dict:
        """Change a message in place and send ``message_changed``."""
        previous = copy.deepcopy(message)
        message.pop("blocks", None)
        message.update(content)
        message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        if self._bot_in(conversation):
            self._emit_event(
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "message": copy.deepcopy(message),
                    "previous_message": previous,
                    "channel": conversation.id,
                    "hidden": True,
                    "ts": message["edited"]["ts"],
                    "event_ts": message["edited"]["ts"],
                    "channel_type": conversation.channel_type,
                }
            )
        return message

    def _remove_message(self, conversation: Conversation, message: dict) -> None:
        """Delete a message (a root with replies leaves a tombstone); send ``message_deleted``."""
        previous = copy.deepcopy(message)
        if message.get("reply_count"):
            for key in ("blocks", "files", "attachments", "bot_id", "app_id", "bot_profile"):
                message.pop(key, None)
            message.update(subtype="tombstone", text="This message was deleted.", user=SLACKBOT)
        else:
            conversation.messages.remove(message)
            root = conversation.find(message.get("thread_ts"))
            if root is not None and root is not message:
                root["reply_count"] = max(0, root.get("reply_count", 1) - 1)
        if self._bot_in(conversation):
            event_ts = self._new_ts()
            self._emit_event(
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "hidden": True,
                    "deleted_ts": previous["ts"],
                    "channel": conversation.id,
                    "previous_message": previous,
                    "ts": event_ts,
                    "event_ts": event_ts,
                    "channel_type": conversation.channel_type,
                }
            )

    def _add_ephemeral(self, user_id: str, channel_id: str, message: dict) -> dict:
        stored = {**message, "channel": channel_id, "is_ephemeral": True}
        self.state.ephemeral.setdefault(user_id, []).append(stored)
        return stored

    def _add_reaction(self, conversation: Conversation, message: dict, user: str, name: str):
        name = name.strip(":")
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            reactions.append(reaction)
        if user in reaction["users"]:
            raise ApiError("already_reacted")
        reaction["users"].append(user)
        reaction["count"] += 1

    def _report_problem(self, user_id: str, channel_id: str | None, text: str, show=True) -> None:
        """Record an error Slack shows a person; slash-command errors appear as Slackbot."""
        self.state.problems.append(
            {"user": user_id, "channel": channel_id, "text": text, "at": self.clock()}
        )
        if show and channel_id:
            message = {"type": "message", "user": SLACKBOT, "text": text, "ts": self._new_ts()}
            self._add_ephemeral(user_id, channel_id, message)

    # ---- internals: files -----------------------------------------------------------------

    def _file_object(self, record: dict) -> dict:
        """The Slack file object for an uploaded file, URLs pointing at this server."""
        name = record["name"]
        url = f"{self.base_url}/files/{record['id']}/{name}"
        by_kind: dict[str, list[str]] = {"channels": [], "groups": [], "ims": []}
        for channel_id in record["channels"]:
            kind = self.state.conversations[channel_id].kind
            by_kind[{"public": "channels", "im": "ims"}.get(kind, "groups")].append(channel_id)
        return {
            "id": record["id"],
            "created": record["created"],
            "timestamp": record["created"],
            "name": name,
            "title": record["title"],
            "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "binary",
            "user": record["user"],
            "user_team": self.team_id,
            "editable": False,
            "size": record.get("size", 0),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(by_kind["channels"]),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "permalink": f"{self.base_url}/files/{record['user']}/{record['id']}/{name}",
            **by_kind,
        }

    def _share_files(self, conversation: Conversation, records: list[dict], params: dict) -> None:
        """Post the message that carries shared files, as files.completeUploadExternal does."""
        for record in records:
            record["channels"].append(conversation.id)
        message = {
            "type": "message",
            "subtype": "file_share",
            "text": params.get("initial_comment") or "",
            "files": [self._file_object(r) for r in records],
            "upload": True,
            "display_as_bot": False,
            **self._bot_identity(),
            "ts": self._new_ts(),
        }
        if params.get("blocks"):
            message["blocks"] = normalize_blocks(parse_json_arg(params["blocks"]), self._short_id)
        self._store_message(conversation, message, thread_ts=params.get("thread_ts") or None)
        self._emit_message_event(conversation, message)

    # ---- internals: triggers, response URLs, interactivity --------------------------------

    def _issue_trigger(self, user_id: str) -> str:
        trigger_id = f"{int(self.clock())}.{self._count('trigger')}.{secrets.token_hex(16)}"
        self.state.triggers[trigger_id] = {
            "user": user_id,
            "issued_at": self.clock(),
            "used": False,
        }
        return trigger_id

    def _consume_trigger(self, trigger_id: str) -> str:
        """The person a trigger belongs to; each is good once, within ``trigger_ttl``."""
        trigger = self.state.triggers.get(trigger_id)
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger["used"]:
            raise ApiError("trigger_exchanged")
        if self.clock() - trigger["issued_at"] > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        trigger["used"] = True
        return trigger["user"]

    def _new_response_url(self, context: dict) -> str:
        """Stores ``context`` itself (not a copy): a slash command's immediate reply sets its
        ``source`` afterwards, so that replace_original/delete_original act on that reply."""
        token = secrets.token_urlsafe(18)
        context.update(uses=0, created=self.clock())
        self.state.response_urls[token] = context
        return f"{self.base_url}/response/{token}"

    def _apply_reply(self, context: dict, payload: dict) -> tuple[int, str]:
        """Show a response_url (or immediate) reply: replace, delete, in_channel or ephemeral."""
        source = context.get("source")
        user_id, channel = context["user"], self.state.conversations[context["channel"]]
        if payload.get("delete_original"):
            if source is not None:
                self._delete_source(user_id, channel, source)
            return 200, "ok"
        try:
            content = self._compose(payload)
        except ApiError as exc:
            return 400, exc.error
        if payload.get("replace_original") and source is not None:
            self._replace_source(user_id, channel, source, content)
            return 200, "ok"
        if payload.get("response_type") == "in_channel":
            message = {"type": "message", **content, **self._bot_identity(), "ts": self._new_ts()}
            self._store_message(channel, message, thread_ts=payload.get("thread_ts") or None)
            self._emit_message_event(channel, message)
            return 200, "ok"
        message = {"type": "message", **content, **self._bot_identity(), "ts": self._new_ts()}
        self._add_ephemeral(user_id, channel.id, message)
        if source is None:  # later replace_original/delete_original act on this reply
            context["source"] = {"ts": message["ts"], "ephemeral": True}
        return 200, "ok"

    def _find_ephemeral(self, user_id: str, channel_id: str, ts: str) -> dict | None:
        return next(
            (
                m
                for m in self.state.ephemeral.get(user_id, [])
                if m["ts"] == ts and m["channel"] == channel_id
            ),
            None,
        )

    def _replace_source(self, user_id, channel: Conversation, source: dict, content: dict):
        if source["ephemeral"]:
            message = self._find_ephemeral(user_id, channel.id, source["ts"])
            if message is not None:
                message.pop("blocks", None)
                message.update(content)
            return
        message = channel.find(source["ts"])
        if message is not None:
            self._edit_message(channel, message, content)

    def _delete_source(self, user_id: str, channel: Conversation, source: dict) -> None:
        if source["ephemeral"]:
            message = self._find_ephemeral(user_id, channel.id, source["ts"])
            if message is not None:
                self.state.ephemeral[user_id].remove(message)
            return
        message = channel.find(source["ts"])
        if message is not None:
            self._remove_message(channel, message)

    def _view_target(self, target: dict | str) -> dict | None:
        view_id = target if isinstance(target, str) else target.get("id")
        if isinstance(view_id, str) and view_id in self.state.views:
            return self.state.views[view_id]
        if isinstance(target, str):
            raise ValueError(f"no open view {target}")
        return None

    def _message_target(self, user_id: str, target: dict) -> tuple[Conversation, dict, bool]:
        """The stored (current) version of a message dict a caller got from the inspectors."""
        channel = self._known_conversation(target.get("channel", ""))
        if target.get("is_ephemeral"):
            message = self._find_ephemeral(user_id, channel.id, target.get("ts", ""))
        else:
            message = channel.find(target.get("ts"))
        if message is None:
            raise ValueError(f"message {target.get('ts')} is no longer in {channel.id}")
        return channel, message, bool(target.get("is_ephemeral"))

    def _action(self, block_id: str, element: dict, value: Any) -> dict:
        """One entry of ``actions`` in block_actions for using ``element``."""
        action = {
            "type": element["type"],
            "action_id": element["action_id"],
            "block_id": block_id,
            "action_ts": self._new_ts(),
        }
        if element["type"] == "button":
            action["text"] = element.get("text")
            chosen = value if value is not None else element.get("value")
            if chosen is not None:
                action["value"] = chosen
            if "style" in element:
                action["style"] = element["style"]
        else:
            key, chosen = selection(element, value)
            action[key] = chosen
        return action

    def _interact(self, user_id: str, payload: dict, label: dict) -> AppResponse:
        """Send an interactivity payload; a failed one is recorded as a problem the user saw."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        response = self._deliverer.send_now("interaction", body, FORM_TYPE, label)
        if not response.ok:
            with self._lock:
                channel = payload.get("container", {}).get("channel_id")
                text = f"{label['type']} failed: {response.error or response.status}"
                self._report_problem(user_id, channel, text, show=False)
        return response

    # ---- internals: views -----------------------------------------------------------------

    def _view_fields(self, spec: dict) -> dict:
        return {
            "id": "",
            "team_id": self.team_id,
            "type": spec["type"],
            "blocks": normalize_blocks(spec.get("blocks") or [], self._short_id),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close")),
            "notify_on_close": bool(spec.get("notify_on_close")),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": None,
            "root_view_id": None,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _new_view(self, spec: dict, user_id: str, previous: dict | None = None) -> dict:
        view = self._view_fields(spec)
        view["id"] = self._new_id("V")
        view["previous_view_id"] = previous["id"] if previous else None
        view["root_view_id"] = previous["root_view_id"] if previous else view["id"]
        self.state.views[view["id"]] = view
        self.state.view_owners[view["id"]] = user_id
        return view

    def _replace_view(self, current: dict, spec: dict) -> dict:
        """New content, same view: id, stack links kept; hash and state renewed."""
        fresh = self._view_fields(spec)
        for key in ("id", "previous_view_id", "root_view_id"):
            fresh[key] = current[key]
        current.clear()
        current.update(fresh)
        return current

    def _forget_view(self, view_id: str) -> None:
        self.state.views.pop(view_id, None)
        self.state.view_owners.pop(view_id, None)

    def _close_modals(self, user_id: str, from_view_id: str) -> None:
        """Close ``from_view_id`` and every view stacked above it."""
        stack = self.state.modal_stacks.get(user_id, [])
        index = stack.index(from_view_id)
        for view_id in stack[index:]:
            self._forget_view(view_id)
        del stack[index:]

    def _apply_response_action(self, user_id: str, view_id: str, body: Any) -> None:
        """What Slack does with the app's answer to a view_submission."""
        stack = self.state.modal_stacks.get(user_id, [])
        if view_id not in stack:
            return  # the app already changed the stack through the API
        action = body.get("response_action") if isinstance(body, dict) else None
        if action == "errors":
            return  # the modal stays open, showing the errors
        if action == "clear":
            self._close_modals(user_id, stack[0])
            return
        if action not in ("update", "push"):
            self._close_modals(user_id, view_id)
            return
        problems = view_errors(body.get("view"), allowed_types=("modal",))
        if action == "push" and len(stack) >= MAX_MODAL_STACK:
            problems.append("push_limit_reached")
        if problems:
            self._report_problem(
                user_id, None, f"response_action {action} rejected: {problems}", show=False
            )
            return
        if action == "update":
            self._replace_view(self.state.views[view_id], body["view"])
        else:
            previous = self.state.views[stack[-1]]
            stack.append(self._new_view(body["view"], user_id, previous=previous)["id"])

    # ---- internals: events ----------------------------------------------------------------

    def _emit_event(self, event: dict) -> None:
        """Wrap an event in the Events API envelope and queue its signed delivery."""
        event_id = self._new_id("Ev")
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }
        label = {"type": event["type"], "event_id": event_id}
        if event.get("subtype"):
            label["subtype"] = event["subtype"]
        self._deliverer.enqueue("event", json.dumps(envelope).encode(), JSON_TYPE, label)

    def _record_delivery(self, entry: dict) -> None:
        with self._lock:
            self.state.deliveries.append(entry)
            self._last_activity = time.monotonic()


# Imported last: the server module refers back to Workspace.
from sandbox.server import WorkspaceServer  # noqa: E402

__all__ = ["AppResponse", "Workspace", "WorkspaceServer"]
