"""The contract between a task and the engine.

A task is two small steps around one LLM call: `build_jobs` renders each source record into a `Job`
(the exact chat messages to send), and `parse` turns the model's reply into question/answer pairs
(raising `ParseError` when the reply does not have the expected shape). Quality filters then accept
or reject the parsed sample; `to_record` assembles the LLaVA record that lands in `results.jsonl`.
Tasks that need no LLM (e.g. grounded QA from annotations) set `uses_llm = False` and implement
`direct_samples` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from datagen.errors import ParseError

Message = dict[str, str]
QAPairs = list[tuple[str, str]]
# A filter looks at a parsed sample and returns None to accept it or a short reason to reject it.
FilterFn = Callable[[QAPairs, "Job"], "str | None"]


@dataclass(frozen=True)
class Job:
    """One LLM request for one sample: everything the engine needs, nothing it must look up."""

    sample_id: str  # unique within a run (e.g. "000000033471" or "000000033471:conversation")
    task: str
    messages: list[Message]
    source: dict[str, Any]  # the input row this job came from (context record, description row, ...)
    template_hash: str = ""
    max_tokens: int | None = None  # task default; the CLI's --max-tokens overrides


DEFAULT_MAX_TOKENS = 1024  # reply cap when neither --max-tokens nor the task's template sets one


def chat_body(
    job: Job, *, model: str, max_tokens: int | None, temperature: float, seed: int | None
) -> dict[str, Any]:
    """The chat-completions request body for `job`: the one shape a live run sends, a batch file holds
    and a dry run writes (so `--dry-run` output is exactly what `--batch` would upload)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": job.messages,
        "max_tokens": max_tokens or job.max_tokens or DEFAULT_MAX_TOKENS,
        "temperature": temperature,
    }
    if seed is not None:
        body["seed"] = seed
    return body


@dataclass
class TaskOptions:
    """Options shared by all tasks; task-specific ones go in `extra`."""

    templates_dir: str | None = None
    seed: int = 0
    image_token: str = "random"  # first | last | random
    disabled_filters: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)


class Task:
    """Base class; subclasses set `name` and override `build_jobs` and `parse`."""

    name: str = ""
    uses_llm: bool = True

    def load_sources(self, opts: TaskOptions) -> list[dict[str, Any]] | None:
        """Tasks whose input is not context records (descriptions, questions) read it here from
        `opts.extra`; returning None means "use the context records the CLI loaded"."""
        return None

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> Iterator[Job]:
        raise NotImplementedError

    def direct_pairs(self, source: dict[str, Any], opts: TaskOptions) -> QAPairs:
        """For tasks with `uses_llm = False`: the question/answer pairs computed without a model."""
        raise NotImplementedError

    def parse(self, reply: str, job: Job) -> QAPairs:
        raise ParseError(f"task {self.name} has no parser")

    def filters(self) -> list[tuple[str, FilterFn]]:
        """Named quality filters, applied in order after a successful parse."""
        return []

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        """Assemble the LLaVA record (id, image, conversations) for an accepted sample."""
        from datagen.records import make_conversations, placement_rng

        rng = placement_rng(opts.seed, job.sample_id)
        return {
            "id": job.source.get("id", job.sample_id),
            "image": job.source.get("image"),
            "conversations": make_conversations(pairs, opts.image_token, rng),  # type: ignore[arg-type]
        }
