"""The contract between a task and the engine: a task owns its whole life cycle.

A task is a few small steps around one LLM call:

1. `load_sources` reads the task's own input when it is not context records (descriptions,
   questions); `None` means "the context records the source gave".
2. `build_jobs` renders each input row into a `Job` (the exact chat messages to send) and returns
   them in a `JobSet`, together with the inputs it refuses before any call (`Rejected`, with a
   reason: the engine records them in failures.jsonl like any failure) and notes for the user.
3. `parse` turns the model's reply into question/answer pairs (raising `ParseError` when the reply
   does not have the expected shape); the named `filters` then accept or reject the sample, and
   `to_record` assembles the LLaVA record that lands in results.jsonl.
4. `prepare` (before a run) and `after_run` (after it) see the run directory, e.g. to teach a
   duplicate filter what a resumed run already holds, or to write the VQA results file.

Tasks that need no LLM (grounded QA from annotations) set `uses_llm = False` and implement
`direct_pairs` instead of `parse`. A task family's own settings are one typed options object
(`options_type`), reached with `opts.of(ThatType)`; the CLI fills it from the flags whose names
match its fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from datagen.errors import ParseError
from datagen.records import make_conversations, placement_rng
from datagen.rundir.store import RunStore

if TYPE_CHECKING:
    from datagen.tasks.structured import ReplyFormat

Message = dict[str, Any]
QAPairs = list[tuple[str, str]]
# A filter looks at a parsed sample and returns None to accept it or a short reason to reject it.
FilterFn = Callable[[QAPairs, "Job"], "str | None"]
T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """One LLM request for one sample: everything the engine needs, nothing it must look up."""

    sample_id: str  # unique within a run (e.g. "conversation:000000033471")
    task: str
    messages: list[Message]
    source: dict[str, Any]  # the input row this job came from (context record, description row, ...)
    template_hash: str = ""
    max_tokens: int | None = None  # task default; the CLI's --max-tokens overrides
    # With --structured: the `response_format` sent with the request (a JSON schema of the reply);
    # None for text replies. The task's `parse` reads JSON when it is set.
    response_format: dict[str, Any] | None = None
    # (message index, image file) of few-shot examples that have their own image (the template
    # folder's NNN.jpg); sent only when the run shows the model images (--image-input).
    example_images: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Rejected:
    """An input a task refuses before any call; the engine writes it to failures.jsonl (stage
    `filter`, `attempts` 0) so every input is accounted for, and counts it under `filter`."""

    sample_id: str
    task: str
    source: dict[str, Any]
    filter: str
    reason: str
    raw: str | None = None  # the input text, so failures.jsonl shows what was refused


@dataclass
class JobSet:
    """What `build_jobs` returns: the jobs to send, the inputs refused before sending, and notes
    (what was left out and why) that the CLI prints."""

    jobs: list[Job] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Job]:
        return iter(self.jobs)

    def __len__(self) -> int:
        return len(self.jobs)

    def extend(self, other: JobSet) -> None:
        self.jobs += other.jobs
        self.rejected += other.rejected
        self.notes += other.notes


@dataclass
class TaskOptions:
    """Options every task understands, plus one typed options object per task family.

    `task_options` holds e.g. `RewriteOptions(min_words=5)` or `VQAOptions(questions=...)`; a task
    reads its own with `opts.of(RewriteOptions)` and gets the defaults when none was given."""

    templates_dir: str | None = None
    seed: int = 0
    image_token: str = "random"  # first | last | random
    disabled_filters: set[str] = field(default_factory=set)
    enabled_filters: set[str] = field(default_factory=set)  # --filter NAME: optional filters turned on
    instructions: str | None = None  # --instructions FILE (detail_description, caption_rewrite)
    structured: bool = False  # --structured: ask for JSON replies of the task's schema
    task_options: list[Any] = field(default_factory=list)

    def of(self, kind: type[T]) -> T:
        """This run's options of one task family (that family's defaults when none were given)."""
        for o in self.task_options:
            if isinstance(o, kind):
                return o
        return kind()


class Task:
    """Base class; subclasses set `name` and override `build_jobs` and `parse` (or `direct_pairs`)."""

    name: str = ""
    uses_llm: bool = True
    options_type: type | None = None  # the task family's options dataclass, if it has one
    # What the task reads instead of context records (in `load_sources`), e.g. "descriptions";
    # empty = context records. A task with its own input refuses a COCO/context source.
    own_input: str = ""
    input_hint: str = ""  # which flags give this task its own input
    # Filter names under which `build_jobs` refuses inputs before any call (their failures.jsonl
    # lines are replaced, not added to, when the run is repeated).
    precall_filters: tuple[str, ...] = ()
    # Names in `filters()` that run only when asked for (`--filter NAME`), e.g. the LLaVA tasks'
    # `hallucination` and `near_duplicate`; every other filter runs unless `--no-filter NAME`.
    optional_filters: tuple[str, ...] = ()
    # The JSON shape of the reply for --structured (`tasks.structured.ReplyFormat`); None = text only.
    reply_format: ReplyFormat | None = None
    # A VLM-native task: its prompt talks about the picture, so it refuses a run without images.
    needs_images: bool = False

    def load_sources(self, opts: TaskOptions) -> list[dict[str, Any]] | None:
        """Tasks whose input is not context records read it here; None = use the context records."""
        return None

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
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
        rng = placement_rng(opts.seed, job.sample_id)
        return {
            "id": job.source.get("id", job.sample_id),
            "image": job.source.get("image"),
            "conversations": make_conversations(pairs, opts.image_token, rng),  # type: ignore[arg-type]
        }

    def prepare(self, run: RunStore) -> None:
        """Before a live, batch or model-free run into `run` (e.g. learn what it already holds)."""

    def after_run(self, run: RunStore) -> list[Path]:
        """After a run: write this task's side files into `run`; returns the paths written."""
        return []

    def describe_rejected(self, rejected: list[Rejected], where: str, limit: int = 5) -> str:
        """One line telling the user which inputs were refused before any call, and where they are."""
        ids = ", ".join(str(r.source.get("id", r.sample_id)) for r in rejected[:limit])
        more = ", ..." if len(rejected) > limit else ""
        filters = ", ".join(sorted({r.filter for r in rejected}))
        return f"{len(rejected)} {self.name} input(s) flagged {filters}, not sent ({ids}{more}); {where}"
