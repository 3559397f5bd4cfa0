"""The sandbox page and the small JSON API behind it.

The page acts as the people in the workspace through :class:`~sandbox.workspace.Workspace`
(``user_posts``, ``click_button``, ``submit_view``...), exactly as the tests do, so Tandem
sees the same signed Slack requests it would in production. Routes:

``GET /`` the page; ``GET /static/*`` its files; ``GET /ui/bootstrap`` who is who;
``GET /ui/screen`` everything one person sees right now; ``GET /ui/events`` a Server-Sent
Events stream that says when to refresh; ``POST /ui/post`` a message or ``/command``;
``POST /ui/action``, ``/ui/submit``, ``/ui/close`` interactivity; ``POST /ui/home`` App Home;
``GET``/``POST /ui/clock`` the simulated clock; ``GET /ui/files/{id}/{name}`` downloads.

Every failure comes back as ``{"ok": false, "error": code, "message": words}`` so the page
can show it: nothing a person does may end in silence or a hang.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sandbox.blocks import MAX_MESSAGE_TEXT
from sandbox.delivery import AppResponse
from sandbox.webapi import ApiError
from sandbox.workspace import SLACKBOT

if TYPE_CHECKING:
    from sandbox.run import Sandbox

STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
STATIC_TYPES[".svg"] = "image/svg+xml"
MESSAGES_SHOWN = 200
COMMANDS = ("/tandem",)
SUGGESTIONS = (
    "How do I rebuild trust with a partner we let down?",
    "How can we make it safe to disagree at our partnership board?",
    "How do I set up an action learning set?",
)
AVATAR_COLOURS = ("#2f6f73", "#7a5c99", "#b0643b", "#3d6aa2", "#8a6d1f", "#a14d6a", "#4b7d4f")
_URL = re.compile(r"https?://[^\s<>|]+[^\s<>|.,;:!?)\]'\"]")
_AT_NAME = re.compile(r"(?<![\w@<])@(\w+(?:[.\-]\w+)*)")


class Problem(Exception):
    """A request the page made that cannot be done; shown to the person as ``message``."""

    def __init__(self, error: str, message: str, status: int = 400):
        super().__init__(message)
        self.error, self.message, self.status = error, message, status


# ---- pure helpers ------------------------------------------------------------------------


def compose_text(raw: str, mentionable: dict[str, str]) -> str:
    """What Slack's composer sends for typed text: ``&<>`` escaped, bare links wrapped in
    ``<...>`` and ``@Name`` turned into a ``<@USERID>`` mention when the name is known.

    ``mentionable`` maps lower-cased names (``tandem``, first names, handles) to user ids.
    """
    text = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _URL.sub(lambda m: f"<{m.group(0)}>", text)

    def mention(match: re.Match) -> str:
        user_id = mentionable.get(match.group(1).lower())
        return f"<@{user_id}>" if user_id else match.group(0)

    return _AT_NAME.sub(mention, text)


def command_suggestions(entries: list[tuple[str, str]]) -> list[dict]:
    """What the composer's ``/`` autocomplete offers, from Tandem's own subcommand list
    (``usage``, ``about`` pairs, as `/tandem help` shows them), help first.

    Choosing one inserts the fixed words of its usage; a placeholder (``<question>``) or a
    choice (``setup | preview``) is left for the person to type.
    """
    suggestions = []
    for usage, about in entries:
        words = usage.split()
        fixed: list[str] = []
        for index, word in enumerate(words):
            if word.startswith("<") or "|" in words[index : index + 2]:
                break
            fixed.append(word)
        insert = " ".join(fixed) + (" " if len(fixed) < len(words) else "")
        suggestions.append({"insert": insert, "label": usage, "about": about})
    return sorted(suggestions, key=lambda s: s["insert"].strip() != "/tandem help")


def initials(name: str) -> str:
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def avatar_colour(user_id: str) -> str:
    digest = hashlib.sha1(user_id.encode()).digest()
    return AVATAR_COLOURS[digest[0] % len(AVATAR_COLOURS)]


def app_failure(response: AppResponse, what: str) -> Problem | None:
    """The error a person sees when Tandem did not accept an interaction (None if it did)."""
    if response.ok:
        return None
    if response.error == "http_timeout":
        return Problem(
            "operation_timeout",
            f"Tandem didn't answer the {what} within 3 seconds, so Slack would show it as "
            "failed. Please try again.",
            502,
        )
    if response.status is None:
        return Problem("dispatch_failed", f"Couldn't reach Tandem ({response.error}).", 502)
    return Problem(
        "dispatch_failed",
        f"Tandem didn't accept the {what} (HTTP {response.status}). Slack would show "
        "\u201cThis app responded with an error\u201d.",
        502,
    )


# ---- the page backend --------------------------------------------------------------------


class PageBackend:
    """What the routes do, in plain synchronous methods (they run in worker threads)."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.ws = sandbox.ws

    # people and places

    def person(self, user_id: Any) -> dict:
        """A demo person the page may act as (never the bot or Slackbot)."""
        for user in self.ws.people():
            if user["id"] == user_id and not user.get("is_bot") and user_id != SLACKBOT:
                return user
        raise Problem("unknown_user", "Choose who you are from the list first.")

    def people(self) -> list[dict]:
        return [u for u in self.ws.people() if not u.get("is_bot") and u["id"] != SLACKBOT]

    def mentionable(self) -> dict[str, str]:
        names = {self.ws.bot_name.lower(): self.ws.bot_user_id}
        for user in self.people():
            names.setdefault(user["name"].lower(), user["id"])
            names.setdefault(user["profile"]["first_name"].lower(), user["id"])
        return names

    def conversation(self, user_id: str, channel: Any) -> dict:
        for conversation in self.ws.conversations_of(user_id):
            if conversation["id"] == channel:
                return conversation
        raise Problem("channel_not_found", "That conversation isn't one of yours.")

    def bootstrap(self) -> dict:
        enrolled = self.sandbox.enrolled_leaders()
        leaders = [
            {
                "id": u["id"],
                "name": u["real_name"],
                "first_name": u["profile"]["first_name"],
                "title": u["profile"].get("title", ""),
                "tz": u["tz"],
                "initials": initials(u["real_name"]),
                "colour": avatar_colour(u["id"]),
                "checkins": u["id"] in enrolled,
                "admin": bool(u.get("is_admin") or u.get("is_owner")),  # as users.info says
            }
            for u in self.people()
        ]
        return {
            "ok": True,
            "team": self.ws.team_name,
            "bot": {"id": self.ws.bot_user_id, "name": self.ws.bot_name.capitalize()},
            "leaders": leaders,
            "commands": list(COMMANDS),
            "subcommands": command_suggestions(self.sandbox.tandem_commands.help_entries()),
            "suggestions": list(SUGGESTIONS),
            "max_message_chars": MAX_MESSAGE_TEXT,
        }

    # what one person sees

    def clock(self, user_id: str | None) -> dict:
        zone_name = "Europe/London"
        if user_id:
            zone_name = self.person(user_id)["tz"]
        now = self.sandbox.clock.now().astimezone(ZoneInfo(zone_name))
        ahead = dt.timedelta(seconds=round(self.sandbox.clock.offset))
        return {
            "iso": now.isoformat(),
            "label": now.strftime("%a %-d %b %Y, %H:%M"),
            "zone": zone_name,
            "ahead": _describe(ahead),
        }

    def screen(self, user_id: str, channel: str | None, thread: str | None) -> dict:
        me = self.person(user_id)
        zone = ZoneInfo(me["tz"])
        dm = self.ws.open_dm(user_id)
        names = {u["id"]: u for u in self.ws.people()}
        conversations = [
            self._sidebar_entry(c, user_id, names) for c in self.ws.conversations_of(user_id)
        ]
        conversations.sort(key=lambda c: (c["section"], c["label"].lower()))
        current_id = channel if any(c["id"] == channel for c in conversations) else dm
        current = next(c for c in conversations if c["id"] == current_id)
        ephemeral = [e for e in self.ws.ephemeral(user_id) if e.get("channel") == current_id]
        today = self.sandbox.clock.now().astimezone(zone).date()

        def show(message: dict) -> dict:
            return self._present(message, user_id, names, zone, today)

        top = self.ws.messages(current_id)
        top += [e for e in ephemeral if not e.get("thread_ts")]
        top.sort(key=lambda m: float(m["ts"]))
        thread_view = None
        if thread:
            replies = self.ws.messages(current_id, thread)
            if replies:
                replies += [e for e in ephemeral if e.get("thread_ts") == replies[0]["ts"]]
                replies.sort(key=lambda m: float(m["ts"]))
                thread_view = {"ts": replies[0]["ts"], "messages": [show(m) for m in replies]}
        modals = self.ws.views(user_id)
        return {
            "ok": True,
            "me": {"id": user_id, "tz": me["tz"], "dm": dm},
            "clock": self.clock(user_id),
            "conversations": conversations,
            "channel": {**current, "messages": [show(m) for m in top[-MESSAGES_SHOWN:]]},
            "thread": thread_view,
            "modal": modals[-1] if modals else None,
            "modal_depth": len(modals),
            "home": self.ws.home_view(user_id),
        }

    def _sidebar_entry(self, conversation: dict, viewer: str, names: dict) -> dict:
        others = [m for m in conversation["members"] if m not in (viewer, self.ws.bot_user_id)]
        bot_member = self.ws.bot_user_id in conversation["members"]
        kind = conversation["kind"]
        if kind == "im":
            label, section = self.ws.bot_name.capitalize(), "2-apps"
        elif kind == "mpim":
            label = ", ".join(names[m]["real_name"] for m in others if m in names)
            label, section = label or "Group", "3-direct"
        else:
            label, section = conversation["name"], "1-channels"
        return {
            "id": conversation["id"],
            "kind": kind,
            "label": label,
            "section": section,
            "topic": conversation["topic"],
            "members": len(conversation["members"]),
            "bot_member": bot_member,
            "latest_ts": conversation["latest_ts"],
        }

    def _present(self, message: dict, viewer: str, names: dict, zone, today) -> dict:
        """A stored message plus what the page needs to draw it: author, local time, links."""
        author_id = message.get("user") or ""
        is_bot = bool(message.get("bot_id")) or author_id == self.ws.bot_user_id
        if is_bot:
            author = {"name": self.ws.bot_name.capitalize(), "is_bot": True, "title": "App"}
        elif author_id == SLACKBOT:
            author = {"name": "Slackbot", "is_bot": True, "title": ""}
        else:
            user = names.get(author_id, {})
            author = {
                "name": user.get("real_name", author_id),
                "is_bot": False,
                "title": (user.get("profile") or {}).get("title", ""),
            }
        author.update(id=author_id, initials=initials(author["name"]))
        author["colour"] = avatar_colour(author_id or "bot")
        moment = self.sandbox.clock.simulated(float(message["ts"])).astimezone(zone)
        files = [
            {
                "id": f["id"],
                "name": f.get("name", ""),
                "title": f.get("title") or f.get("name", ""),
                "size": f.get("size", 0),
                "mimetype": f.get("mimetype", ""),
                "download": f"/ui/files/{f['id']}/{f.get('name', 'file')}?user={viewer}",
            }
            for f in message.get("files") or []
        ]
        keep = (
            "ts",
            "thread_ts",
            "text",
            "blocks",
            "attachments",
            "subtype",
            "reply_count",
            "reply_users",
            "latest_reply",
            "reactions",
        )
        shown = {k: message[k] for k in keep if k in message}
        shown.update(
            channel=message.get("channel"),
            ephemeral=bool(message.get("is_ephemeral")),
            edited=bool(message.get("edited")),
            files=files,
            author=author,
            time=moment.strftime("%H:%M"),
            day=_day_label(moment.date(), today),
        )
        return shown

    # acting as people

    def post(self, body: dict) -> dict:
        user_id = self.person(body.get("user"))["id"]
        channel = self.conversation(user_id, body.get("channel"))
        raw = body.get("text")
        if not isinstance(raw, str):
            raise Problem("invalid_arguments", "A message needs some text.")
        thread_ts = body.get("thread_ts") or None
        if not raw.strip():
            return {"ok": True, "ignored": True}  # Slack's composer sends nothing either
        stripped = raw.strip()
        if stripped.startswith("/") and not thread_ts:
            return self._command(user_id, channel, stripped)
        text = compose_text(raw.strip(), self.mentionable())
        if len(text) > MAX_MESSAGE_TEXT:
            raise Problem(
                "msg_too_long",
                f"That message is too long to send: Slack allows {MAX_MESSAGE_TEXT:,} "
                f"characters and this one has {len(text):,}.",
            )
        try:
            posted = self.ws.user_posts(user_id, channel["id"], text, thread_ts=thread_ts)
        except ApiError as exc:  # e.g. replying to a thread that is gone
            raise Problem(exc.error, "Slack refused that message: " + exc.error) from exc
        result = {"ok": True, "ts": posted["ts"], "thread_ts": posted.get("thread_ts")}
        bot_mention = f"<@{self.ws.bot_user_id}>"
        if bot_mention in text and channel["kind"] not in ("im",):
            if self.ws.bot_user_id in channel["members"]:
                result["opens_thread"] = posted.get("thread_ts") or posted["ts"]
            else:
                result["notice"] = (
                    f"Tandem isn't in #{channel['name']}, so it won't see that. Mention it in "
                    "#leadership-circle, or send it a direct message."
                )
        return result

    def _command(self, user_id: str, channel: dict, typed: str) -> dict:
        command, _, text = typed.partition(" ")
        if command.lower() not in COMMANDS:
            raise Problem(
                "unknown_command",
                f"{command} is not a valid command. In Slack, messages that start with "
                "\u201c/\u201d are read as commands; try /tandem help.",
            )
        response = self.ws.run_slash_command(user_id, channel["id"], command.lower(), text.strip())
        failure = app_failure(response, "command")
        if failure:
            raise failure
        return {"ok": True, "command": command.lower()}

    def action(self, body: dict) -> dict:
        user_id = self.person(body.get("user"))["id"]
        action_id = body.get("action_id")
        if not isinstance(action_id, str) or not action_id:
            raise Problem("invalid_action", "That control has no action_id, so nothing was sent.")
        if body.get("view_id"):
            target: Any = str(body["view_id"])
        elif isinstance(body.get("message"), dict):
            message = body["message"]
            self.conversation(user_id, message.get("channel"))
            target = {
                "channel": message.get("channel"),
                "ts": message.get("ts"),
                "is_ephemeral": bool(message.get("ephemeral")),
            }
        else:
            raise Problem("invalid_action", "An action needs the message or view it came from.")
        try:
            response = self.ws.click_button(user_id, target, action_id, body.get("value"))
        except (ValueError, ApiError) as exc:
            raise Problem("invalid_action", f"That action couldn't be sent: {exc}") from exc
        failure = app_failure(response, "click")
        if failure:
            raise failure
        return {"ok": True}

    def submit(self, body: dict) -> dict:
        user_id = self.person(body.get("user"))["id"]
        view_id, values = body.get("view_id"), body.get("values") or {}
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise Problem("invalid_arguments", "Form values must map block ids to inputs.")
        try:
            response = self.ws.submit_view(user_id, str(view_id), values)
        except ValueError as exc:
            raise Problem("invalid_view", f"That form couldn't be sent: {exc}") from exc
        failure = app_failure(response, "form")
        if failure:
            raise failure
        reply = response.json if isinstance(response.json, dict) else {}
        errors = reply.get("errors") if reply.get("response_action") == "errors" else None
        modals = self.ws.views(user_id)
        return {"ok": True, "errors": errors, "modal": modals[-1] if modals else None}

    def close(self, body: dict) -> dict:
        user_id = self.person(body.get("user"))["id"]
        try:
            response = self.ws.close_view(user_id, str(body.get("view_id")))
        except ValueError as exc:
            raise Problem("invalid_view", f"That window is already closed: {exc}") from exc
        if response is not None:
            failure = app_failure(response, "close")
            if failure:
                raise failure
        return {"ok": True}

    def open_home(self, body: dict) -> dict:
        user_id = self.person(body.get("user"))["id"]
        self.ws.open_app_home(user_id, tab=body.get("tab") or "home")
        return {"ok": True}

    def advance(self, body: dict) -> dict:
        user_id = self.person(body.get("user"))["id"]
        step = body.get("step")
        if step not in ("next_monday", "next_digest", "hour", "day"):
            raise Problem(
                "invalid_step", "The clock moves by next_monday, next_digest, hour or day."
            )
        try:
            sent = self.sandbox.advance_clock(step, user_id)
        except LookupError:
            raise Problem(
                "no_digest",
                "There's no team digest yet. A workspace admin can set one up with "
                "/tandem digest setup in #leadership-circle.",
            ) from None
        return {"ok": True, "clock": self.clock(user_id), "sent": sent}

    def file(self, user_id: str, file_id: str) -> tuple[str, bytes]:
        self.person(user_id)
        mine = {c["id"] for c in self.ws.conversations_of(user_id)}
        for record in self.ws.files():
            if record["id"] == file_id and (mine & set(record["channels"])):
                return record["name"], record["content"] or b""
        raise Problem("file_not_found", "That file isn't shared with you.", 404)


def _describe(ahead: dt.timedelta) -> str:
    """'real time', or how far ahead the sandbox is, in days and hours."""
    hours = int(ahead.total_seconds() // 3600)
    if hours < 1:
        return "real time"
    days, hours = divmod(hours, 24)
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    parts += [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    return " ".join(parts) + " ahead of real time"


def _day_label(date: dt.date, today: dt.date) -> str:
    if date == today:
        return "Today"
    if date == today - dt.timedelta(days=1):
        return "Yesterday"
    return date.strftime("%A %-d %B")


# ---- HTTP --------------------------------------------------------------------------------


def build_page_app(sandbox: Sandbox) -> Starlette:
    backend = PageBackend(sandbox)

    async def call(function, *args) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(function, *args))
        except Problem as problem:
            return JSONResponse(
                {"ok": False, "error": problem.error, "message": problem.message},
                status_code=problem.status,
            )

    def json_route(method):
        async def endpoint(request: Request) -> Response:
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return JSONResponse(
                    {"ok": False, "error": "invalid_json", "message": "Send a JSON object."},
                    status_code=400,
                )
            return await call(method, body)

        return endpoint

    async def page(_request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        path = (STATIC_DIR / name).resolve()
        if path.parent != STATIC_DIR.resolve() or not path.is_file():
            return Response("Not found", status_code=404)
        media_type = STATIC_TYPES.get(path.suffix, "application/octet-stream")
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})

    async def bootstrap(_request: Request) -> Response:
        return await call(backend.bootstrap)

    async def screen(request: Request) -> Response:
        query = request.query_params
        return await call(
            backend.screen, query.get("user"), query.get("channel"), query.get("thread")
        )

    async def clock(request: Request) -> Response:
        return await call(lambda: {"ok": True, **backend.clock(request.query_params.get("user"))})

    async def download(request: Request) -> Response:
        try:
            name, content = await run_in_threadpool(
                backend.file, request.query_params.get("user"), request.path_params["file_id"]
            )
        except Problem as problem:
            return JSONResponse(
                {"ok": False, "error": problem.error, "message": problem.message},
                status_code=problem.status,
            )
        disposition = f"attachment; filename*=UTF-8''{_quote(name)}"
        return Response(
            content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": disposition},
        )

    async def events(request: Request) -> Response:
        """One line whenever anything may have changed; the page then asks for its screen."""

        async def stream():
            yield "retry: 1000\n\n"
            last, quiet = None, 0
            while not sandbox.stopping.is_set():
                marker = (sandbox.ws.revision, sandbox.clock.offset)
                if marker != last:
                    last, quiet = marker, 0
                    digest = hashlib.sha1(repr(marker).encode()).hexdigest()[:12]
                    yield f"data: {json.dumps({'revision': digest})}\n\n"
                elif quiet >= 75:  # a comment every ~15 s keeps proxies from closing it
                    quiet = 0
                    yield ": still here\n\n"
                quiet += 1
                await asyncio.sleep(0.2)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/ui/bootstrap", bootstrap, methods=["GET"]),
        Route("/ui/screen", screen, methods=["GET"]),
        Route("/ui/events", events, methods=["GET"]),
        Route("/ui/clock", clock, methods=["GET"]),
        Route("/ui/clock", json_route(backend.advance), methods=["POST"]),
        Route("/ui/post", json_route(backend.post), methods=["POST"]),
        Route("/ui/action", json_route(backend.action), methods=["POST"]),
        Route("/ui/submit", json_route(backend.submit), methods=["POST"]),
        Route("/ui/close", json_route(backend.close), methods=["POST"]),
        Route("/ui/home", json_route(backend.open_home), methods=["POST"]),
        Route("/ui/files/{file_id}/{name}", download, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
