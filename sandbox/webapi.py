"""The Slack Web API methods the sandbox answers, each shaped like Slack's documented response.

Handlers are methods named ``api_<method with dots as underscores>`` on a mixin of
:class:`sandbox.workspace.Workspace`; they run under the workspace lock, return the response
fields after ``"ok": true``, and raise :class:`ApiError` for ``"ok": false``.
"""

from __future__ import annotations

import base64
import copy
import math
import time
from typing import Any

from sandbox.blocks import BadJson, parse_json_arg, view_errors

API_METHODS = frozenset(
    {
        "api.test",
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "chat.delete",
        "chat.postEphemeral",
        "chat.getPermalink",
        "conversations.open",
        "conversations.info",
        "conversations.members",
        "conversations.history",
        "conversations.replies",
        "conversations.join",
        "conversations.list",
        "users.info",
        "users.list",
        "views.open",
        "views.push",
        "views.update",
        "views.publish",
        "reactions.add",
        "reactions.remove",
        "reactions.get",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "files.info",
        "files.delete",
    }
)
NO_AUTH_METHODS = frozenset({"api.test"})
# Slack's "special" limit of about one message per second per channel applies to this alone.
PER_CHANNEL_LIMITED = frozenset({"chat.postMessage"})
MAX_MODAL_STACK = 3


class ApiError(Exception):
    """An ``{"ok": false, "error": ...}`` answer, with any extra fields and HTTP details."""

    def __init__(self, error: str, *, status: int = 200, headers: dict | None = None, **extra):
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra


def invalid_arguments(messages: list[str]) -> ApiError:
    return ApiError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


def _loggable(params: dict) -> dict:
    """A copy for the call log; uploaded bytes are summarised so snapshots stay JSON."""
    return {
        k: f"<{len(v)} bytes>" if isinstance(v, bytes) else copy.deepcopy(v)
        for k, v in params.items()
    }


def flag(params: dict, key: str) -> bool:
    """Booleans arrive as JSON true/false or, from form bodies, as "1"/"true"."""
    value = params.get(key)
    return value is True or str(value).lower() in ("1", "true")


def required(params: dict, key: str) -> Any:
    value = params.get(key)
    if value in (None, ""):
        raise invalid_arguments([f"missing required field: {key}"])
    return value


def paginate(items: list, params: dict, default_limit: int = 100) -> tuple[list, str]:
    """Slack-style cursor paging; the cursor is opaque base64 of an offset."""
    try:
        limit = int(params.get("limit") or default_limit)
        cursor = params.get("cursor") or ""
        offset = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    except (ValueError, IndexError) as exc:
        raise ApiError("invalid_cursor") from exc
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
    return page, next_cursor


class WebApiMethods:
    """Web API handlers; the state and helpers they use live on the Workspace."""

    # ---- dispatch -------------------------------------------------------------------------

    def handle_api(self, method: str, params: dict, token: str | None) -> tuple[int, dict, dict]:
        """Answer one Web API call: (HTTP status, JSON body, extra headers). Records the call."""
        with self._lock:
            status, headers = 200, {}
            try:
                if method not in API_METHODS:
                    raise ApiError("unknown_method")
                if method not in NO_AUTH_METHODS:
                    self._authenticate(token)
                self._inject_fault(method)
                self._enforce_rate_limits(method, params)
                handler = getattr(self, "api_" + method.replace(".", "_"))
                body = {"ok": True, **handler(params)}
            except ApiError as exc:
                status, headers = exc.status, exc.headers
                body = {"ok": False, "error": exc.error, **exc.extra}
            self.state.calls.append(
                {
                    "method": method,
                    "params": _loggable(params),
                    "token": token,
                    "at": self.clock(),
                    "status": status,
                    "ok": body["ok"],
                    "error": body.get("error"),
                }
            )
            self._last_activity = time.monotonic()
            return status, body, headers

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        if token != self.bot_token:
            raise ApiError("invalid_auth")

    def _inject_fault(self, method: str) -> None:
        faults = self._faults.get(method)
        if not faults:
            return
        error, retry_after, status = faults.pop(0)
        if error == "ratelimited":
            raise ApiError(error, status=status or 429, headers={"Retry-After": str(retry_after)})
        raise ApiError(error, status=status or 200)

    def _enforce_rate_limits(self, method: str, params: dict) -> None:
        per_second, per_minute = self._limits
        now = self.clock()
        waits = []
        channel_key = str(params.get("channel") or "")
        channel_limited = per_second is not None and method in PER_CHANNEL_LIMITED and channel_key
        if channel_limited:
            waits.append(self._channel_free_at.get(channel_key, 0.0) - now)
        window = self._method_windows.setdefault(method, [])
        if per_minute is not None:
            window[:] = [t for t in window if t > now - 60]
            if len(window) >= per_minute:
                waits.append(window[0] + 60 - now)
        wait = max(waits, default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        if channel_limited:
            free_at = max(now, self._channel_free_at.get(channel_key, 0.0))
            self._channel_free_at[channel_key] = free_at + 1.0 / per_second
        if per_minute is not None:
            window.append(now)

    # ---- auth -----------------------------------------------------------------------------

    def api_api_test(self, params: dict) -> dict:
        return {"args": {k: v for k, v in params.items() if k != "token"}}

    def api_auth_test(self, params: dict) -> dict:
        return {
            "url": f"{self.base_url}/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    # ---- chat -----------------------------------------------------------------------------

    def api_chat_postMessage(self, params: dict) -> dict:
        conversation = self._member_conversation(params.get("channel"))
        message = {"type": "message", **self._compose(params), **self._bot_identity()}
        message["ts"] = self._new_ts()
        self._store_message(
            conversation,
            message,
            thread_ts=params.get("thread_ts") or None,
            broadcast=flag(params, "reply_broadcast"),
        )
        self._emit_message_event(conversation, message)
        return {"channel": conversation.id, "ts": message["ts"], "message": copy.deepcopy(message)}

    def api_chat_update(self, params: dict) -> dict:
        conversation = self._member_conversation(params.get("channel"))
        message = self._own_message(conversation, params.get("ts"), "cant_update_message")
        content = self._compose(params, keep_blocks_of=message)
        updated = self._edit_message(conversation, message, content)
        return {
            "channel": conversation.id,
            "ts": updated["ts"],
            "text": updated.get("text", ""),
            "message": copy.deepcopy(updated),
        }

    def api_chat_delete(self, params: dict) -> dict:
        conversation = self._member_conversation(params.get("channel"))
        message = self._own_message(conversation, params.get("ts"), "cant_delete_message")
        self._remove_message(conversation, message)
        return {"channel": conversation.id, "ts": message["ts"]}

    def api_chat_postEphemeral(self, params: dict) -> dict:
        conversation = self._member_conversation(params.get("channel"))
        user_id = params.get("user")
        if user_id not in self.state.users:
            raise ApiError("user_not_found")
        if user_id not in conversation.members:
            raise ApiError("user_not_in_channel")
        message = {"type": "message", **self._compose(params), **self._bot_identity()}
        message["ts"] = self._new_ts()
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        self._add_ephemeral(user_id, conversation.id, message)
        return {"message_ts": message["ts"]}

    def api_chat_getPermalink(self, params: dict) -> dict:
        conversation = self._visible_conversation(params.get("channel"))
        message = conversation.find(params.get("message_ts"))
        if message is None:
            raise ApiError("message_not_found")
        return {"channel": conversation.id, "permalink": self._permalink(conversation, message)}

    # ---- conversations --------------------------------------------------------------------

    def api_conversations_open(self, params: dict) -> dict:
        if params.get("channel"):
            conversation = self._visible_conversation(params["channel"])
            return {"channel": conversation.to_api(self.bot_user_id)}
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 8:
            raise ApiError("too_many_users")
        for user_id in users:
            if user_id not in self.state.users:
                raise ApiError("user_not_found")
        existed = self._direct_conversation_id(users) in self.state.conversations
        conversation = self._open_direct(users)
        body: dict[str, Any] = {"channel": conversation.to_api(self.bot_user_id)}
        if existed:
            body.update(no_op=True, already_open=True)
        return body

    def api_conversations_info(self, params: dict) -> dict:
        conversation = self._visible_conversation(params.get("channel"))
        info = conversation.to_api(
            self.bot_user_id, include_num_members=flag(params, "include_num_members")
        )
        return {"channel": info}

    def api_conversations_members(self, params: dict) -> dict:
        conversation = self._visible_conversation(params.get("channel"))
        page, cursor = paginate(list(conversation.members), params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def api_conversations_history(self, params: dict) -> dict:
        conversation = self._member_conversation(params.get("channel"))
        messages = self._in_range(conversation.top_level(), params)[::-1]  # newest first
        page, cursor = paginate(messages, params)
        return {
            "messages": copy.deepcopy(page),
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def api_conversations_replies(self, params: dict) -> dict:
        conversation = self._member_conversation(params.get("channel"))
        message = conversation.find(params.get("ts"))
        if message is None:
            raise ApiError("thread_not_found")
        root_ts = message.get("thread_ts") or message["ts"]
        page, cursor = paginate(self._in_range(conversation.thread(root_ts), params), params)
        return {
            "messages": copy.deepcopy(page),
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def api_conversations_join(self, params: dict) -> dict:
        conversation = self._visible_conversation(params.get("channel"))
        if conversation.kind != "public":
            raise ApiError("method_not_supported_for_channel_type")
        body: dict[str, Any] = {}
        if self.bot_user_id in conversation.members:
            body = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        else:
            conversation.members.append(self.bot_user_id)
        return {"channel": conversation.to_api(self.bot_user_id), **body}

    def api_conversations_list(self, params: dict) -> dict:
        wanted = str(params.get("types") or "public_channel").split(",")
        kinds = {
            "public_channel": "public",
            "private_channel": "private",
            "im": "im",
            "mpim": "mpim",
        }
        allowed = {kinds[t.strip()] for t in wanted if t.strip() in kinds}
        channels = [
            c.to_api(self.bot_user_id)
            for c in self.state.conversations.values()
            if c.kind in allowed and (c.kind == "public" or self.bot_user_id in c.members)
        ]
        page, cursor = paginate(channels, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    # ---- users ----------------------------------------------------------------------------

    def api_users_info(self, params: dict) -> dict:
        user = self.state.users.get(params.get("user"))
        if user is None:
            raise ApiError("user_not_found")
        user = copy.deepcopy(user)
        if flag(params, "include_locale"):
            user["locale"] = "en-GB"
        return {"user": user}

    def api_users_list(self, params: dict) -> dict:
        page, cursor = paginate(list(self.state.users.values()), params, default_limit=200)
        return {
            "members": copy.deepcopy(page),
            "cache_ts": int(self.clock()),
            "response_metadata": {"next_cursor": cursor},
        }

    # ---- views ----------------------------------------------------------------------------

    def api_views_open(self, params: dict) -> dict:
        spec = self._view_arg(params, ("modal",))
        user_id = self._consume_trigger(required(params, "trigger_id"))
        view = self._new_view(spec, user_id)
        for old_id in self.state.modal_stacks.get(user_id, []):
            self._forget_view(old_id)
        self.state.modal_stacks[user_id] = [view["id"]]
        return {"view": copy.deepcopy(view)}

    def api_views_push(self, params: dict) -> dict:
        spec = self._view_arg(params, ("modal",))
        user_id = self._consume_trigger(required(params, "trigger_id"))
        stack = self.state.modal_stacks.get(user_id)
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= MAX_MODAL_STACK:
            raise ApiError("push_limit_reached")
        view = self._new_view(spec, user_id, previous=self.state.views[stack[-1]])
        stack.append(view["id"])
        return {"view": copy.deepcopy(view)}

    def api_views_update(self, params: dict) -> dict:
        current = self._view_by_ref(params.get("view_id"), params.get("external_id"))
        spec = self._view_arg(params, (current["type"],), replacing=current)
        if params.get("hash") and params["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        return {"view": copy.deepcopy(self._replace_view(current, spec))}

    def api_views_publish(self, params: dict) -> dict:
        user_id = required(params, "user_id")
        if user_id not in self.state.users:
            raise ApiError("user_not_found")
        current_id = self.state.home_views.get(user_id)
        current = self.state.views.get(current_id) if current_id else None
        spec = self._view_arg(params, ("home",), replacing=current)
        if current is None:
            view = self._new_view(spec, user_id)
            self.state.home_views[user_id] = view["id"]
            return {"view": copy.deepcopy(view)}
        if params.get("hash") and params["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        return {"view": copy.deepcopy(self._replace_view(current, spec))}

    def _view_arg(
        self, params: dict, allowed_types: tuple[str, ...], replacing: dict | None = None
    ) -> dict:
        """The validated ``view`` argument; ``replacing`` is the view it will overwrite."""
        try:
            view = parse_json_arg(required(params, "view"))
        except BadJson as exc:
            raise invalid_arguments(["failed to parse json [json-pointer:/view]"]) from exc
        problems = view_errors(view, allowed_types=allowed_types)
        if problems:
            raise invalid_arguments(problems)
        external_id = view.get("external_id")
        if external_id:
            holder = next(
                (v for v in self.state.views.values() if v.get("external_id") == external_id),
                None,
            )
            if holder is not None and holder is not replacing:
                raise ApiError("duplicate_external_id")
        return view

    def _view_by_ref(self, view_id: str | None, external_id: str | None) -> dict:
        if not view_id and not external_id:
            raise invalid_arguments(["either view_id or external_id is required"])
        for view in self.state.views.values():
            if view["id"] == view_id or (external_id and view.get("external_id") == external_id):
                return view
        raise ApiError("not_found")

    # ---- reactions ------------------------------------------------------------------------

    def api_reactions_add(self, params: dict) -> dict:
        conversation, message = self._reaction_target(params)
        self._add_reaction(conversation, message, self.bot_user_id, required(params, "name"))
        return {}

    def api_reactions_remove(self, params: dict) -> dict:
        conversation, message = self._reaction_target(params)
        name = str(required(params, "name")).strip(":")
        for reaction in message.get("reactions", []):
            if reaction["name"] == name and self.bot_user_id in reaction["users"]:
                reaction["users"].remove(self.bot_user_id)
                reaction["count"] -= 1
                message["reactions"] = [r for r in message["reactions"] if r["count"]]
                if not message["reactions"]:
                    del message["reactions"]
                return {}
        raise ApiError("no_reaction")

    def api_reactions_get(self, params: dict) -> dict:
        conversation, message = self._reaction_target(params)
        return {"type": "message", "channel": conversation.id, "message": copy.deepcopy(message)}

    def _reaction_target(self, params: dict):
        conversation = self._member_conversation(params.get("channel"))
        message = conversation.find(params.get("timestamp"))
        if message is None:
            raise ApiError("message_not_found")
        return conversation, message

    # ---- files ----------------------------------------------------------------------------

    def api_files_getUploadURLExternal(self, params: dict) -> dict:
        filename = required(params, "filename")
        try:
            length = int(required(params, "length"))
        except ValueError as exc:
            raise invalid_arguments(["length must be an integer [json-pointer:/length]"]) from exc
        file_id = self._new_id("F")
        self.state.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "length": length,
            "alt_txt": params.get("alt_txt"),
            "snippet_type": params.get("snippet_type"),
            "user": self.bot_user_id,
            "created": int(self.clock()),
            "content": None,
            "completed": False,
            "channels": [],
            "thread_ts": None,
            "initial_comment": None,
        }
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, params: dict) -> dict:
        try:
            wanted = parse_json_arg(required(params, "files"))
        except BadJson as exc:
            raise invalid_arguments(["failed to parse json [json-pointer:/files]"]) from exc
        records = []
        for item in wanted:
            record = self.state.files.get(item.get("id"))
            if record is None:
                raise ApiError("file_not_found")
            records.append((record, item.get("title") or record["name"]))
        channel_refs = [params["channel_id"]] if params.get("channel_id") else []
        channel_refs += [c for c in str(params.get("channels") or "").split(",") if c]
        conversations = [self._member_conversation(ref) for ref in channel_refs]
        for record, title in records:
            record.update(completed=True, title=title)
            record["initial_comment"] = params.get("initial_comment")
            record["thread_ts"] = params.get("thread_ts")
        for conversation in conversations:
            self._share_files(conversation, [r for r, _ in records], params)
        return {"files": [{"id": r["id"], "title": r["title"]} for r, _ in records]}

    def api_files_delete(self, params: dict) -> dict:
        """Delete a file the caller uploaded: gone from files.info and from its messages."""
        record = self.state.files.get(params.get("file"))
        if record is None:
            raise ApiError("file_not_found")
        if record["user"] != self.bot_user_id:
            raise ApiError("cant_delete_file")
        del self.state.files[record["id"]]
        for channel_id in record["channels"]:
            conversation = self.state.conversations.get(channel_id)
            if conversation is None:
                continue
            for message in list(conversation.messages):
                files = [f for f in message.get("files", []) if f.get("id") != record["id"]]
                if len(files) != len(message.get("files", [])):
                    message["files"] = files
                    if not files and message.get("subtype") == "file_share":
                        self._remove_message(conversation, message)
        return {}

    def api_files_info(self, params: dict) -> dict:
        record = self.state.files.get(params.get("file"))
        if record is None or not record["completed"]:
            raise ApiError("file_not_found")
        return {"file": self._file_object(record)}

    # ---- shared helpers -------------------------------------------------------------------

    @staticmethod
    def _in_range(messages: list[dict], params: dict) -> list[dict]:
        """Apply ``oldest``/``latest``/``inclusive`` the way history and replies do."""
        oldest, latest = params.get("oldest"), params.get("latest")
        inclusive = flag(params, "inclusive")

        def keep(message: dict) -> bool:
            ts = float(message["ts"])
            if oldest and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
                return False
            return not (latest and (ts > float(latest) or (ts == float(latest) and not inclusive)))

        return [m for m in messages if keep(m)]
