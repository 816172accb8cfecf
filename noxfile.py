"""Developer sessions: `nox` runs tests, lint and typecheck; `nox -s live` smoke-tests a real endpoint."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PY = ["3.11"]


@nox.session(python=PY)
def tests(session: nox.Session) -> None:
    """The full test suite (loopback LLM server, real COCO/CC3M samples, tiny training run)."""
    session.install("torch==2.13.0")
    session.install("-e", ".[dev,train,loaders,ray]")  # ray: the --executor ray tests
    # The trainers' own loaders, as in .ci/run, so tests/export/test_trainer_loaders.py runs here too.
    session.install("--no-deps", "-r", ".ci/loaders-nodeps.txt")
    session.run("pytest", "-n", "2", "--dist", "loadfile", *session.posargs)


@nox.session(python=PY)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "datagen", "tests", "bench", "noxfile.py")
    session.run("ruff", "format", "--check", "datagen", "tests", "bench", "noxfile.py")


@nox.session(python=PY)
def typecheck(session: nox.Session) -> None:
    session.install("mypy", "-e", ".[dev]")
    session.run("mypy", "datagen")


@nox.session(python=PY)
def live(session: nox.Session) -> None:
    """Generate 3 samples per LLaVA task against a real endpoint; skipped without credentials.

    OPENAI_BASE_URL points it at any OpenAI-compatible server (e.g. vLLM); DATAGEN_LIVE_MODEL names
    the model there (default gpt-4o-mini). The run is exported and checked against LLaVA's loader rules.
    """
    if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
        session.skip("set OPENAI_API_KEY or OPENAI_BASE_URL to run the live smoke check")
    session.install("-e", ".")
    out = session.create_tmp()
    run_dir = os.path.join(out, "live-run")
    session.run(
        "datagen",
        "generate",
        "llava",
        "--coco",
        "data/coco",
        "--split",
        "val2017",
        "--limit-per-task",
        "3",
        "--model",
        os.environ.get("DATAGEN_LIVE_MODEL", "gpt-4o-mini"),
        "--out",
        run_dir,
        "--concurrency",
        "3",
    )
    session.run("datagen", "stats", run_dir)
    session.run("datagen", "export", "llava", run_dir, "--out", os.path.join(out, "llava_instruct.json"))
