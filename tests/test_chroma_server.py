"""Scale-out index: the same ingest and retrieval against a real local Chroma server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.knowledge.index import get_collection, ingest
from bot.knowledge.retrieval import Retriever
from tests.conftest import make_settings

# Slow tier: starts a Chroma server and ingests into it.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the local Chroma server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_ingest_and_hybrid_search_work_against_a_chroma_server(chroma_url, tmp_path, kb_settings):
    settings = make_settings(tmp_path, CHROMA_URL=chroma_url)
    first = ingest(settings)
    assert first.added >= 60 and first.chunks > 300
    assert ingest(settings).unchanged == first.added  # incremental over HTTP too
    served = Retriever(settings)
    embedded = Retriever(kb_settings)
    for question in (
        "how do I make it safe for my team to speak up",
        "our targets keep pulling partners apart",
        "setting up peer coaching across organisations",
    ):
        remote, local = served.search(question), embedded.search(question)
        assert remote.grounded
        assert [r.doc_id for r in remote.results] == [r.doc_id for r in local.results]
    assert not served.search("recipe for lasagne").grounded
    assert get_collection(settings).count() == first.chunks
