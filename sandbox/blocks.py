"""Block Kit checks that Slack applies server-side, so app bugs fail here as they would there.

Only limits that Slack documents and enforces on every call are checked; each problem is
reported the way Slack reports it: a message ending in ``[json-pointer:/path]``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_SURFACE_BLOCKS = 100  # modals and App Home
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BLOCK_ID = 255
MAX_ACTION_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_MESSAGE_TEXT = 40000

TEXT_TYPES = ("plain_text", "mrkdwn")
INPUT_BLOCK_TYPES = ("input",)


class BadJson(ValueError):
    """A JSON-typed argument arrived as a string that does not parse."""


def parse_json_arg(value: Any) -> Any:
    """Accept what slack_sdk sends: a JSON string (form bodies) or an already-decoded value."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise BadJson(str(exc)) from exc
    return value


def _too_long(limit: int, pointer: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _text_errors(text: Any, pointer: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(text, dict) or not isinstance(text.get("text"), str):
        return [f"must provide an object [json-pointer:{pointer}]"]
    allowed = ("plain_text",) if plain_only else TEXT_TYPES
    if text.get("type") not in allowed:
        return [f"must be one of {list(allowed)} [json-pointer:{pointer}/type]"]
    if len(text["text"]) > limit:
        return [_too_long(limit, f"{pointer}/text")]
    return []


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    errors: list[str] = []
    if element["type"] == "button":
        errors += _text_errors(element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT)
        value = element.get("value")
        if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
            errors.append(_too_long(MAX_BUTTON_VALUE, f"{pointer}/value"))
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > MAX_BLOCK_ID:
        errors.append(_too_long(MAX_BLOCK_ID, f"{pointer}/action_id"))
    return errors


def _block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    kind = block["type"]
    errors: list[str] = []
    block_id = block.get("block_id")
    if isinstance(block_id, str) and len(block_id) > MAX_BLOCK_ID:
        errors.append(_too_long(MAX_BLOCK_ID, f"{pointer}/block_id"))
    if kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide either text or fields [json-pointer:{pointer}]")
        if "text" in block:
            errors += _text_errors(block["text"], f"{pointer}/text", MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
            errors.append(
                f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{pointer}/fields]"
            )
        else:
            for i, field in enumerate(fields):
                errors += _text_errors(field, f"{pointer}/fields/{i}", MAX_FIELD_TEXT)
        if "accessory" in block:
            errors += _element_errors(block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        errors += _text_errors(
            block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True
        )
    elif kind in ("actions", "context"):
        limit = MAX_ACTION_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append(f"must provide an array [json-pointer:{pointer}/elements]")
        elif len(elements) > limit:
            errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}/elements]")
        elif kind == "actions":
            for i, element in enumerate(elements):
                errors += _element_errors(element, f"{pointer}/elements/{i}")
    elif kind == "input":
        errors += _text_errors(block.get("label"), f"{pointer}/label", 2000, plain_only=True)
        errors += _element_errors(block.get("element"), f"{pointer}/element")
    return errors


def block_errors(blocks: Any, *, limit: int, pointer: str = "/blocks") -> list[str]:
    """Every problem Slack would report for this ``blocks`` array (empty when valid)."""
    if not isinstance(blocks, list):
        return [f"must provide an array [json-pointer:{pointer}]"]
    if len(blocks) > limit:
        return [f"no more than {limit} items allowed [json-pointer:{pointer}]"]
    errors: list[str] = []
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        errors += _block_errors(block, f"{pointer}/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in seen_ids:
                errors.append(f"duplicate block_id [json-pointer:{pointer}/{i}/block_id]")
            seen_ids.add(block_id)
    return errors


def view_errors(view: Any, *, allowed_types: tuple[str, ...]) -> list[str]:
    """Problems with a modal or App Home view, pointers rooted at ``/view`` like Slack's."""
    if not isinstance(view, dict):
        return ["failed to match all allowed schemas [json-pointer:/view]"]
    if view.get("type") not in allowed_types:
        return [f"must be one of {list(allowed_types)} [json-pointer:/view/type]"]
    errors = block_errors(view.get("blocks"), limit=MAX_SURFACE_BLOCKS, pointer="/view/blocks")
    if view["type"] == "modal":
        errors += _text_errors(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
        for button in ("submit", "close"):
            if view.get(button) is not None:
                errors += _text_errors(
                    view[button], f"/view/{button}", MAX_VIEW_TITLE, plain_only=True
                )
        has_inputs = any(
            isinstance(b, dict) and b.get("type") in INPUT_BLOCK_TYPES
            for b in view.get("blocks") or []
        )
        if has_inputs and view.get("submit") is None:
            errors.append("must provide submit when using input blocks [json-pointer:/view/submit]")
    for key, limit in (
        ("private_metadata", MAX_PRIVATE_METADATA),
        ("callback_id", MAX_CALLBACK_ID),
    ):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.append(_too_long(limit, f"/view/{key}"))
    return errors


def _interactive_elements(block: dict) -> list[dict]:
    if block.get("type") == "actions":
        candidates = block.get("elements") or []
    elif block.get("type") == "section":
        candidates = [block["accessory"]] if "accessory" in block else []
    elif block.get("type") == "input":
        candidates = [block["element"]] if "element" in block else []
    else:
        candidates = []
    return [e for e in candidates if isinstance(e, dict) and e.get("type") != "image"]


def normalize_blocks(blocks: list[dict], make_id: Callable[[], str]) -> list[dict]:
    """Copy ``blocks``, generating missing ``block_id``s and ``action_id``s as Slack does."""
    normalized = []
    for block in copy.deepcopy(blocks):
        block.setdefault("block_id", make_id())
        for element in _interactive_elements(block):
            element.setdefault("action_id", make_id())
        normalized.append(block)
    return normalized


def find_element(blocks: list[dict], action_id: str) -> tuple[str, dict] | None:
    """Locate an interactive element by ``action_id``; returns (block_id, element)."""
    for block in blocks or []:
        for element in _interactive_elements(block):
            if element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    return None


def options_of(element: dict) -> list[dict]:
    """All options of a select/radio/checkbox element, flattening option groups."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


MISSING = object()

# element type -> (key Slack reports the user's choice under, key of the element's default)
_STATE_KEYS = {
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "overflow": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


def _option(element: dict, wanted: Any) -> dict:
    if isinstance(wanted, dict):
        return wanted
    for option in options_of(element):
        if option.get("value") == wanted:
            return option
    raise ValueError(f"{element.get('action_id')!r} has no option with value {wanted!r}")


def selection(element: dict, given: Any = MISSING) -> tuple[str, Any]:
    """(key, value) describing the user's input to ``element`` as Slack reports it.

    ``given`` may be plain values (option values are looked up in the element's options);
    when MISSING, the element's initial value stands, as in a form the user left alone.
    """
    key, initial_key = _STATE_KEYS.get(element.get("type", ""), ("value", "initial_value"))
    if given is MISSING:
        return key, element.get(initial_key)
    if key == "selected_option" and given is not None:
        return key, _option(element, given)
    if key == "selected_options":
        return key, [_option(element, g) for g in given or []]
    return key, given


def view_state(view: dict, values: dict[str, dict[str, Any]]) -> dict:
    """The ``state`` of a submitted view: every input block, with ``values`` filled in.

    ``values`` maps block_id -> action_id -> what the user entered; naming an element the
    view lacks is a test mistake, so it raises rather than being silently dropped.
    """
    unused = {block_id: dict(actions) for block_id, actions in values.items()}
    result: dict[str, dict] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        for element in _interactive_elements(block):
            action_id = element["action_id"]
            given = unused.get(block["block_id"], {}).pop(action_id, MISSING)
            key, value = selection(element, given)
            result.setdefault(block["block_id"], {})[action_id] = {
                "type": element["type"],
                key: value,
            }
    leftovers = {block_id: actions for block_id, actions in unused.items() if actions}
    if leftovers:
        raise ValueError(f"view {view.get('id')} has no input elements for {leftovers}")
    return {"values": result}
