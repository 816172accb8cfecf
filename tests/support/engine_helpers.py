"""Shared bits for the engine tests: a tiny real Task (Q/A reply format), job builders, an
`EngineConfig` for the loopback server, and the CLI run in a subprocess with that task registered."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datagen.engine.config import EngineConfig
from datagen.errors import ParseError
from datagen.tasks.base import Job, JobSet, QAPairs, Task, TaskOptions
from support.paths import TESTS


class EchoQA(Task):
    """Expects replies `Q: ...\\nA: ...`; filter `short` rejects answers under 3 characters."""

    name = "echo_qa"

    def build_jobs(self, sources, opts):  # type: ignore[override]
        return JobSet([make_job(src["id"], src.get("text", "")) for src in sources])

    def parse(self, reply: str, job: Job) -> QAPairs:
        lines = [x.strip() for x in reply.strip().splitlines() if x.strip()]
        if len(lines) != 2 or not lines[0].startswith("Q:") or not lines[1].startswith("A:"):
            raise ParseError(f"expected 'Q: ...' and 'A: ...' lines, got {reply[:40]!r}")
        return [(lines[0][2:].strip(), lines[1][2:].strip())]

    def filters(self):  # type: ignore[override]
        return [("short", lambda pairs, job: "answer too short" if len(pairs[0][1]) < 3 else None)]


def make_job(i: Any, text: str = "") -> Job:
    sid = f"{int(i):012d}"
    return Job(
        sample_id=f"echo_qa:{sid}",
        task="echo_qa",
        messages=[
            {"role": "system", "content": "Write one question and answer."},
            {"role": "user", "content": f"sample {sid} {text}"},
        ],
        source={"id": sid, "image": f"{sid}.jpg"},
        template_hash="t0",
        max_tokens=64,
    )


def jobs(n: int, start: int = 1) -> list[Job]:
    return [make_job(i) for i in range(start, start + n)]


def good_reply(body: dict) -> str:
    """A well-formed reply naming the sample, so results can be checked per sample."""
    user = body["messages"][-1]["content"]
    return f"Q: What is in {user.split()[1]}?\nA: A picture for {user.split()[1]}."


OPTS = TaskOptions(image_token="first")


def engine_config(*base_urls: str, **kw: Any) -> EngineConfig:
    """An `EngineConfig` for the given server URLs: model "m", no API key, quiet; any field overridable."""
    kw.setdefault("model", "m")
    kw.setdefault("api_key", None)
    kw.setdefault("quiet", True)
    return EngineConfig(base_urls=list(base_urls), **kw)


# ---- running the real CLI in a subprocess with the EchoQA task registered -------------------------
TESTS_DIR = str(TESTS)  # tests/ (not tests/support) goes on sys.path, as pytest's `pythonpath` does
_PRELUDE = (
    "import sys; sys.path.insert(0, {tests!r}); "
    "from datagen.tasks.registry import register_task; from support.engine_helpers import EchoQA; "
    "register_task('echo_qa', EchoQA); "
    "from datagen.cli import main; main(sys.argv[1:])"
)


def cli(*args: str) -> list[str]:
    """argv for `datagen ARGS...` in a fresh interpreter that also knows the test task `echo_qa`."""
    return [sys.executable, "-c", _PRELUDE.format(tests=TESTS_DIR), *map(str, args)]


def run_echo_cli(
    *args: object, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `cli(*args)` to completion, text output captured (env defaults to ours)."""
    return subprocess.run(cli(*map(str, args)), capture_output=True, text=True, timeout=timeout, env=env)


def coco_args(coco_mini: Path) -> list[str]:
    ann = coco_mini / "annotations"
    return [
        "--captions",
        str(ann / "captions_train2017.json"),
        "--instances",
        str(ann / "instances_train2017.json"),
    ]


def echo_qa_args(coco_mini: Path, out: Path, url: str, *more: object) -> list[object]:
    """`generate echo_qa` over the COCO-mini train files into `out` against the server at `url`
    (the arguments of `run_echo_cli`)."""
    return [
        "generate",
        "echo_qa",
        *coco_args(coco_mini),
        "--out",
        out,
        "--model",
        "m",
        "--base-url",
        url,
        *more,
    ]
