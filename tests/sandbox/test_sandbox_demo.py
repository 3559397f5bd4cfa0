"""The demo workspace tells the truth: an admin who can try digests, one clock for Tandem
and the sandbox, a digest with themes on its day, and a calm first few minutes."""

from __future__ import annotations

import json

from slack_sdk import WebClient

from sandbox.demo import CIRCLE
from tests.sandbox.test_sandbox_page import AMARA, GRACE, ephemeral, screen
from tests.support.waiting import wait_until


def test_one_demo_person_is_a_workspace_admin_who_may_set_up_a_digest(page, sandbox):
    leaders = page.get("/ui/bootstrap").json()["leaders"]
    assert [leader["id"] for leader in leaders if leader["admin"]] == [AMARA]
    slack = WebClient(token=sandbox.ws.bot_token, base_url=sandbox.settings.slack_api_url)
    assert slack.users_info(user=AMARA)["user"]["is_admin"] is True
    assert slack.users_info(user=GRACE)["user"]["is_admin"] is False

    page.post("/ui/post", json={"user": GRACE, "channel": CIRCLE, "text": "/tandem digest setup"})
    wait_until(lambda: [m for m in ephemeral(page, GRACE, CIRCLE) if "admins" in m["text"]])
    assert screen(page, GRACE)["modal"] is None

    page.post("/ui/post", json={"user": AMARA, "channel": CIRCLE, "text": "/tandem digest setup"})
    modal = wait_until(lambda: screen(page, AMARA)["modal"])
    assert modal["callback_id"] == "digest_setup" and "How often" in json.dumps(modal)
    page.post("/ui/close", json={"user": AMARA, "view_id": modal["id"]}).raise_for_status()
