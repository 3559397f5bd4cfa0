"""Outgoing text is untrusted: no broadcast mentions, no pings, links only to allowed sites.

Kernel: every feature's model output (guidance answers, digest paragraphs) is made safe here,
by the one function `neutralise`.
"""

from __future__ import annotations

import re

# Slack's own link syntax: <https://x|label>, <!here>, <@U123>, <!subteam^S1|@team>, <#C1|name>.
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_BARE_URL = re.compile(r"(?<![<|])\bhttps?://[^\s<>|]+", re.I)
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.I)
_ANY_URL = re.compile(r"\bhttps?://\S+", re.I)


_URL_PARTS = re.compile(r"^(https?)://([^/?#]*)([/?#].*)?$", re.I)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


def _allowed(url: str, domains: tuple[str, ...]) -> bool:
    """Whether a link may stay live: its host, read as a browser would read it, is on the
    allow-list. Anything a browser might read differently from us is refused outright:
    backslashes (browsers treat them as "/"), user info ("@"), percent-encoding or non-ASCII
    in the host (IDNA look-alikes), whitespace or control characters, an odd port, a
    trailing dot. Refusing ambiguous links costs a label; allowing one could cost a login."""
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F or c == "\\" for c in url):
        return False
    match = _URL_PARTS.match(url)
    if match is None:
        return False
    authority = match.group(2)
    if "@" in authority or "%" in authority or not authority:
        return False
    host, _, port = authority.partition(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        return False
    host = host.lower()
    if not _HOST.match(host):
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


def escape_mrkdwn(text: str) -> str:
    """Slack's required escapes: after this, text can never form a control sequence."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def neutralise(text: str, allowed_domains: tuple[str, ...], *, plain: bool = False) -> str:
    """Make model (or any untrusted) text safe to post.

    Slack control sequences are removed or reduced to their label, links to sites
    outside the allow-list lose their address, broadcasts lose their "@", and everything
    else is escaped.

    `plain=True` is for text kept as plain text and escaped only where it is shown (a digest
    paragraph, which is also the message's unescaped notification text): every control
    sequence and every link is removed whole, label and all, so no link can stay live
    whatever the allow-list; broadcasts lose their "@"; nothing is escaped.
    """
    if plain:
        text = _ANY_URL.sub("", _SLACK_TOKEN.sub("", text))
        return _BROADCAST.sub(lambda m: m.group(1), text)
    text = text.replace("\x00", "")  # NULs delimit our placeholders below
    links: list[str] = []

    def keep_link(url: str, label: str | None) -> str:
        if _allowed(url, allowed_domains):
            links.append(f"<{url}|{escape_mrkdwn(label or url)}>" if label else f"<{url}>")
            return f"\x00{len(links) - 1}\x00"
        return label if label else "(link removed)"

    def replace_token(match: re.Match) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.lower().startswith(("http://", "https://")):
            return keep_link(target, label or None)
        if target.startswith(("!", "@", "#")):
            # A broadcast, user, group or channel mention: keep a harmless label only.
            return label.lstrip("@") if label else ""
        return match.group(0)  # not a Slack token: escaped below

    text = _SLACK_TOKEN.sub(replace_token, text)
    text = _BARE_URL.sub(lambda m: keep_link(m.group(0), None), text)
    text = _BROADCAST.sub(lambda m: m.group(1), text)
    text = escape_mrkdwn(text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)
