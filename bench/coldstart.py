"""Cold start and ingest: `python -m bench.coldstart` (after `make ingest`).

- `tandem --help` and `tandem ask --json` as fresh processes, three runs each (wall and CPU);
- in one process, where a start's time goes (Chroma, reading the index, keywords, scope, model);
- the first answer after start, without and with the background warm-up `tandem serve` does;
- ingest: a fresh data directory indexing the shipped base (vectors precomputed), and
  documents new to the vector cache (every passage through the model), in chunks per second.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TANDEM = str(Path(sys.executable).with_name("tandem"))
QUESTION = "How do I rebuild trust with a partner organisation?"
LATER = (
    "our targets keep pulling partners apart",
    "How do I make it safe for my team to admit mistakes?",
    "setting up an action learning set for system leaders",
)
NEW_DOCUMENTS = 12


def _timed(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def processes(runs: int = 3) -> dict:
    out = {}
    for name, command in (
        ("help", [TANDEM, "--help"]),
        ("ask", [TANDEM, "ask", "--json", QUESTION]),
    ):
        samples = [_timed(command) for _ in range(runs)]
        out[name] = {
            "wall_s": [round(w, 2) for w, _ in samples],
            "cpu_s": [round(c, 2) for _, c in samples],
        }
    return out


def _python(code: str, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# Each part on its own: the models are loaded here in the foreground (a start loads them in
# threads while it reads the index), and the retriever's parts read what is saved on disk
# (keyword indexes, word vectors, example vectors, the scope gate's fit) as a start does.
PARTS = """
import json, time
t0 = time.perf_counter()
import chromadb
t1 = time.perf_counter()
from bot.settings import get_settings
from bot.knowledge import retrieval
from bot.knowledge.index import get_collection
from bot.knowledge.retrieval import Retriever
from bot.knowledge.embeddings import MiniLMEncoder
retrieval.load_encoder_in_background = retrieval.load_word_encoder_in_background = lambda: None
settings = get_settings()
collection = get_collection(settings)
t2 = time.perf_counter()
collection.get(include=["documents", "metadatas", "embeddings"])
t3 = time.perf_counter()
retriever = Retriever(settings, collection)
t4 = time.perf_counter()
retriever._build_keywords()
t5 = time.perf_counter()
retriever._build_scope()
t6 = time.perf_counter()
MiniLMEncoder()
t7 = time.perf_counter()
from bot.knowledge import snapshot
from bot.knowledge.wordvectors import WordEncoder
t8 = time.perf_counter()
snapshot.load(settings)
t9 = time.perf_counter()
WordEncoder()
t10 = time.perf_counter()
print(json.dumps({"import_chromadb_s": t1 - t0, "read_index_s": t3 - t2,
    "retriever_s": t4 - t3, "keywords_s": t5 - t4, "scope_s": t6 - t5, "model_s": t7 - t6,
    "read_snapshot_s": t9 - t8, "word_model_s": t10 - t9}))
"""

FIRST_ANSWER = """
import json, sys, time
from bot.settings import get_settings
from bot.guidance.service import GuidanceService
from bot.knowledge.retrieval import get_retriever
settings = get_settings()
get_retriever(settings)  # the index is loaded either way
service = GuidanceService(settings)
if WARM:
    service.warm()
times = []
for question in QUESTIONS:
    started = time.perf_counter()
    service.answer(question)
    times.append(time.perf_counter() - started)
print(json.dumps({"first_ms": times[0] * 1000, "later_ms": sorted(times[1:])[len(times[1:]) // 2] * 1000}))
"""


def first_answer() -> dict:
    out = {}
    for warm in (False, True):
        code = FIRST_ANSWER.replace("WARM", repr(warm)).replace(
            "QUESTIONS", repr((QUESTION, *LATER))
        )
        out["warm" if warm else "cold"] = _python(code)
    return out


def _knowledge_copy(root: Path, documents: int | None, passages_cached: bool) -> Path:
    source = ROOT / "knowledge"
    knowledge = root / "knowledge"
    (knowledge / "docs").mkdir(parents=True)
    for name in ("taxonomy.yaml", "vocabulary.yaml"):
        shutil.copy(source / name, knowledge / name)
    shutil.copytree(source / "scope", knowledge / "scope")
    for path in sorted((source / "docs").glob("*.md"))[:documents]:
        shutil.copy(path, knowledge / "docs" / path.name)
    shutil.copy(source / "embeddings.npz", knowledge / "embeddings.npz")
    if not passages_cached:  # keep only the scope examples' vectors: every passage is new
        _python(
            "import json, os\n"
            "from bot.settings import get_settings\n"
            "from bot.knowledge.embedcache import EmbeddingCache\n"
            "from bot.knowledge.scope import scope_texts\n"
            f"cache = EmbeddingCache(__import__('pathlib').Path({str(knowledge / 'embeddings.npz')!r}))\n"
            "cache.keep_only(scope_texts(get_settings()))\n"
            "cache.save()\n"
            "print(json.dumps({}))",
            env={**os.environ, "TANDEM_KNOWLEDGE_DIR": str(knowledge)},
        )
    return knowledge


INGEST = """
import json, time
from bot.settings import get_settings
from bot.knowledge.index import ingest
from bot.knowledge.embeddings import get_encoder
get_encoder()
started, cpu = time.perf_counter(), time.process_time()
report = ingest(get_settings())
print(json.dumps({"chunks": report.chunks, "embedded": report.embedded,
    "seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}))
"""


def ingest() -> dict:
    out = {}
    for name, documents, cached in (
        ("shipped_base_fresh_clone", None, True),
        ("new_documents", NEW_DOCUMENTS, False),
    ):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            knowledge = _knowledge_copy(root, documents, cached)
            env = {
                **os.environ,
                "TANDEM_KNOWLEDGE_DIR": str(knowledge),
                "TANDEM_DATA_DIR": str(root / "data"),
            }
            result = _python(INGEST, env)
        result["chunks_per_s"] = result["chunks"] / result["seconds"]
        out[name] = result
    return out


def main() -> None:
    result = {
        "processes": processes(),
        "start_parts": _python(PARTS),
        "first_answer": first_answer(),
        "ingest": ingest(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
