"""Outgoing text: links stay live only when a browser would go where the allow-list says."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.safety import _allowed, neutralise

DOMAINS = ("nhs.uk", "gov.uk")


def browser_host(url: str) -> str | None:
    """The host a WHATWG browser would connect to for an http(s) URL (close enough for
    the hostile shapes tested here): backslashes are slashes, the host follows the last @
    of the authority, percent-encoding is decoded, case and a trailing dot are dropped."""
    lowered = url.strip()
    if not lowered.lower().startswith(("http://", "https://")):
        return None
    rest = lowered.split("://", 1)[1].replace("\\", "/")
    authority = rest
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    host = authority.rsplit("@", 1)[-1].split(":", 1)[0]
    host = unquote(host).lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def on_list(host: str | None) -> bool:
    return bool(host) and any(host == d or host.endswith("." + d) for d in DOMAINS)


HOSTILE_PARTS = st.sampled_from(
    [
        "evil.example",
        "nhs.uk",
        "www.nhs.uk",
        "nhs.uk.evil.example",
        "evil.example\\",
        "evil.example\\@",
        "@",
        "%40",
        "%2e",
        "nhs%2euk",
        "ｎhs.uk",
        "xn--nhs-4xa.uk",
        ":443",
        ":99999",
        "/",
        "?",
        "#",
        ".",
        " ",
        "\t",
        "user:pass@",
        "gov.uk",
    ]
)


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTPS://", "javascript://"]),
    st.lists(HOSTILE_PARTS, max_size=6),
)
def test_an_allowed_link_always_goes_where_the_allow_list_says(scheme, parts):
    url = scheme + "".join(parts)
    if _allowed(url, DOMAINS):
        assert on_list(browser_host(url)), url


def test_the_audits_bypass_is_refused():
    assert not _allowed("https://evil.example\\@nhs.uk", DOMAINS)
    text = neutralise("<https://evil.example\\@nhs.uk|NHS login>", DOMAINS)
    assert text == "NHS login"


def test_plain_links_to_allowed_sites_stay_live():
    for url in ("https://www.nhs.uk/conditions", "https://gov.uk", "http://nhs.uk:8080/x?y#z"):
        assert _allowed(url, DOMAINS), url
    assert neutralise("see https://www.nhs.uk/a", DOMAINS) == "see <https://www.nhs.uk/a>"


def test_nul_delimited_placeholders_in_model_text_cannot_crash_or_inject():
    text = neutralise("before \x000\x00 and \x0099\x00 <https://www.nhs.uk|ok>", DOMAINS)
    assert "\x00" not in text and "<https://www.nhs.uk|ok>" in text


def test_plain_text_loses_every_control_sequence_and_link_and_is_not_escaped():
    """A digest paragraph stays plain text (it is escaped where shown, and is also the
    unescaped notification text): nothing in it may ping, link or render as a control."""
    text = neutralise(
        "Trust & care <!here> <@U1|bob> <mailto:a@b.c|mail> <https://www.nhs.uk|NHS> "
        "https://www.nhs.uk/a @channel",
        DOMAINS,
        plain=True,
    )
    assert "<" not in text and "http" not in text and "@" not in text
    assert " ".join(text.split()) == "Trust & care channel"
