"""`caption_rewrite`: MiniGPT-4-style cleaning of long machine-written image descriptions.

Flow: `load_sources` reads the descriptions (a file, or an earlier run's detail descriptions);
`build_jobs` refuses those too short to be worth a call (`Rejected`, recorded by the engine) and
sends each other description as the final user message after our few-shot template (flawed
paragraph → fixed paragraph); `parse` takes the reply as the corrected paragraph; the rule filters
in `filters` reject replies that are not a clean English paragraph. The record pairs a description
request (human) with the corrected paragraph (gpt) and keeps the original text in `source_text` for `datagen diff` and export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datagen.errors import ParseError, UsageError
from datagen.prompts.instructions import load_instructions
from datagen.prompts.templates import TaskTemplate, load_template
from datagen.records import make_conversations, placement_rng
from datagen.tasks.base import FilterFn, Job, JobSet, QAPairs, Rejected, Task, TaskOptions
from datagen.tasks.rewrite import filters as rf
from datagen.tasks.rewrite.descriptions import (
    DEFAULT_MIN_WORDS,
    SHORT_INPUT_FILTER,
    read_descriptions,
    read_from_run,
    short_input_rejection,
    split_short,
)
from datagen.tasks.structured import ReplyFormat, is_structured, nonempty, obj, string, structured_template

DEFAULT_MIN_RATIO = 0.5
# Used when a user's --templates-dir folder has no instruction list of its own.
FALLBACK_INSTRUCTION = "Describe this image in detail."
_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'"}


@dataclass
class RewriteOptions:
    """caption_rewrite's input and settings (`--descriptions`, `--from-run`, ...); None = default."""

    META_KEY = "rewrite"  # run.json config records these under this key

    descriptions: str | None = None
    from_run: str | None = None
    id_field: str | None = None
    text_field: str | None = None
    min_words: int | None = None
    min_ratio: float | None = None

    def check_input(self) -> None:
        """Exactly one input, and field names only where they mean something."""
        if (self.descriptions is None) == (self.from_run is None):
            raise UsageError("caption_rewrite needs exactly one of --descriptions FILE or --from-run RUN_DIR")
        if self.from_run is not None and (self.id_field or self.text_field):
            raise UsageError("--id-field/--text-field apply to --descriptions files, not --from-run")
        self.check()

    def check(self) -> None:
        """One-line usage errors for the settings, before anything is sent."""
        if self.min_words is not None and self.min_words < 0:
            raise UsageError(f"--min-words must be 0 or more, got {self.min_words}")
        if self.min_ratio is not None and not 0 <= self.min_ratio <= 1:
            raise UsageError(f"--min-ratio must be between 0 and 1, got {self.min_ratio}")

    @property
    def words(self) -> int:
        return DEFAULT_MIN_WORDS if self.min_words is None else int(self.min_words)

    @property
    def ratio(self) -> float:
        return DEFAULT_MIN_RATIO if self.min_ratio is None else float(self.min_ratio)


def clean_reply(reply: str) -> str:
    """Strip whitespace, a code fence, or quotes wrapping the whole reply (packaging, not content)."""
    text = reply.strip()
    if text.startswith("```") and text.endswith("```") and len(text) >= 6:
        text = text[3:-3]
        first, _, rest = text.partition("\n")
        text = rest if first.strip().isalpha() else text  # drop a language tag like ```text
        text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text.endswith(_QUOTES[text[0]]):
        inner = text[1:-1]
        if text[0] not in inner:  # one quoted paragraph, not a paragraph that starts and ends with quotes
            text = inner.strip()
    return text


# --structured: the corrected paragraph as one field (the record's question is ours, not the model's).
REWRITE_FORMAT = ReplyFormat(
    name="caption_rewrite",
    schema=obj({"description": string("the corrected description, one clean English paragraph")}),
    to_json=lambda pairs: {"description": pairs[0][1]},
    to_pairs=lambda data, job: [
        (
            str(job.source.get("instruction") or FALLBACK_INSTRUCTION),
            nonempty(data["description"], "description"),
        )
    ],
)


def _min_ratio(job: Job) -> float:
    value = job.source.get("min_ratio")
    return DEFAULT_MIN_RATIO if value is None else float(value)


class CaptionRewriteTask(Task):
    name = "caption_rewrite"
    options_type = RewriteOptions
    own_input = "descriptions"
    input_hint = "use --descriptions FILE or --from-run RUN_DIR"
    precall_filters = (SHORT_INPUT_FILTER,)
    reply_format = REWRITE_FORMAT

    def __init__(self) -> None:
        self._template: TaskTemplate | None = None

    def load_sources(self, opts: TaskOptions) -> list[dict[str, Any]]:
        o = opts.of(RewriteOptions)
        o.check_input()  # bad values fail before anything is read
        if o.descriptions:
            return list(read_descriptions(o.descriptions, id_field=o.id_field, text_field=o.text_field))
        return list(read_from_run(str(o.from_run)))

    def template(self, opts: TaskOptions) -> TaskTemplate:
        if self._template is None:
            tpl = load_template(self.name, opts.templates_dir)
            if opts.structured:  # the few-shot fixed paragraphs shown as JSON
                tpl = structured_template(
                    tpl, REWRITE_FORMAT, lambda _ctx, answer: [("", clean_reply(answer))]
                )
            self._template = tpl
        return self._template

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        """Jobs for descriptions long enough to rewrite; shorter ones are refused before any call.
        Splitting here, not in load_sources, keeps `--limit N` meaning the first N descriptions."""
        o = opts.of(RewriteOptions)
        o.check()
        keep, short = split_short(list(sources), o.words)
        out = JobSet(rejected=[short_input_rejection(r, o.words) for r in short])
        tpl = self.template(opts)
        # --instructions FILE (shared with the LLaVA tasks) wins over the template's list.
        path = opts.instructions
        choices = load_instructions(path) if path else list(tpl.instructions) or [FALLBACK_INSTRUCTION]
        response_format = REWRITE_FORMAT.response_format() if opts.structured else None
        for row in keep:
            sample_id = f"{self.name}:{row['id']}"
            # The human turn of the record: a description request, drawn per sample (seeded). It is
            # not sent to the model, so it does not enter the request key.
            question = placement_rng(opts.seed, "instruction:" + sample_id).choice(choices)
            out.jobs.append(
                Job(
                    sample_id=sample_id,
                    task=self.name,
                    messages=tpl.messages(row["description"]),
                    # The job carries its own filter setting: the engine may judge it with another instance.
                    source={**row, "instruction": question, "min_ratio": o.ratio},
                    template_hash=tpl.hash,
                    max_tokens=tpl.max_tokens,
                    response_format=response_format,
                    example_images=tpl.image_slots(),
                )
            )
        return out

    def describe_rejected(self, rejected: list[Rejected], where: str, limit: int = 5) -> str:
        ids = ", ".join(str(r.source["id"]) for r in rejected[:limit]) + (
            ", ..." if len(rejected) > limit else ""
        )
        return (
            f"{len(rejected)} description(s) flagged {SHORT_INPUT_FILTER}, not sent ({ids}); {where} "
            "(--min-words 0 sends everything)"
        )

    def parse(self, reply: str, job: Job) -> QAPairs:
        if is_structured(job):
            return REWRITE_FORMAT.parse(reply, job)
        paragraph = clean_reply(reply)
        if not paragraph:
            raise ParseError("empty reply: no paragraph")
        return [(str(job.source.get("instruction") or FALLBACK_INSTRUCTION), paragraph)]

    def filters(self) -> list[tuple[str, FilterFn]]:
        def para(pairs: QAPairs) -> str:
            return pairs[0][1]

        def source(job: Job) -> str:
            return str(job.source.get("description", ""))

        return [
            ("apology", lambda p, j: rf.apology(para(p))),
            ("preamble", lambda p, j: rf.preamble(para(p))),
            ("not_english", lambda p, j: rf.not_english(para(p))),
            ("cut_off", lambda p, j: rf.cut_off(para(p))),
            ("repeats", lambda p, j: rf.repeats(para(p))),
            ("lost_content", lambda p, j: rf.lost_content(para(p), source(j), _min_ratio(j))),
        ]

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        rng = placement_rng(opts.seed, job.sample_id)
        return {
            "id": job.source["id"],
            "image": job.source["image"],
            "conversations": make_conversations(pairs, opts.image_token, rng),  # type: ignore[arg-type]
            "source_text": job.source["description"],
        }
