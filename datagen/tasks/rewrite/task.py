"""`caption_rewrite`: MiniGPT-4-style cleaning of long machine-written image descriptions.

Flow: `load_sources` reads the descriptions (a file, or an earlier run's detail descriptions) and
sets aside those too short to be worth a call; `build_jobs` sends each description as the final
user message after our few-shot template (flawed paragraph → fixed paragraph); `parse` takes the
reply as the corrected paragraph; the rule filters in `rewrite_filters` reject replies that are not
a clean English paragraph. The record pairs a description request (human) with the corrected
paragraph (gpt) and keeps the original text in `source_text` for `datagen diff` and export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from datagen.errors import ParseError, UsageError
from datagen.records import make_conversations, placement_rng
from datagen.tasks.base import FilterFn, Job, QAPairs, Task, TaskOptions
from datagen.tasks.llava.replies import load_instructions
from datagen.tasks.rewrite import filters as rf
from datagen.tasks.rewrite.descriptions import (
    DEFAULT_MIN_WORDS,
    read_descriptions,
    read_from_run,
    short_input_failure,
    split_short,
)

DEFAULT_MIN_RATIO = 0.5
# Used when a user's --templates-dir folder has no instruction list of its own.
FALLBACK_INSTRUCTION = "Describe this image in detail."
_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'"}


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


def _min_words(opts: TaskOptions) -> int:
    value = opts.extra.get("min_words")
    n = DEFAULT_MIN_WORDS if value is None else int(value)
    if n < 0:
        raise UsageError(f"--min-words must be 0 or more, got {n}")
    return n


def _min_ratio(job: Job) -> float:
    value = job.source.get("min_ratio")
    return DEFAULT_MIN_RATIO if value is None else float(value)


class CaptionRewriteTask(Task):
    name = "caption_rewrite"

    def __init__(self) -> None:
        # Descriptions flagged before any call, as failures.jsonl lines (written by rewrite_prefail).
        self.prefailures: list[dict[str, Any]] = []
        self._template: Any = None

    def load_sources(self, opts: TaskOptions) -> list[dict[str, Any]]:
        extra = opts.extra
        path, run = extra.get("descriptions"), extra.get("from_run")
        if bool(path) == bool(run):
            raise UsageError("caption_rewrite needs exactly one of --descriptions FILE or --from-run RUN_DIR")
        if path:
            rows = read_descriptions(path, id_field=extra.get("id_field"), text_field=extra.get("text_field"))
        else:
            rows = read_from_run(str(run))
        _min_words(opts)  # a bad value fails before anything else happens
        return list(rows)

    def template(self, opts: TaskOptions) -> Any:
        if self._template is None:
            from datagen.prompts.templates import load_template

            self._template = load_template(self.name, opts.templates_dir)
        return self._template

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> Iterator[Job]:
        """Jobs for descriptions long enough to rewrite; shorter ones become `prefailures` (and go to
        `opts.extra["rejected_sources"]` when the caller passes a list there) instead of requests.
        Splitting here, not in load_sources, keeps `--limit N` meaning the first N descriptions."""
        min_words = _min_words(opts)
        keep, short = split_short(list(sources), min_words)
        self.prefailures = [short_input_failure(r, min_words) for r in short]
        sink = opts.extra.get("rejected_sources")
        if isinstance(sink, list):  # the generate command records these in failures.jsonl
            sink.extend(self.prefailures)
        ratio = opts.extra.get("min_ratio")
        min_ratio = DEFAULT_MIN_RATIO if ratio is None else float(ratio)
        if not 0 <= min_ratio <= 1:
            raise UsageError(f"--min-ratio must be between 0 and 1, got {min_ratio}")
        tpl = self.template(opts)
        # --instructions FILE (shared with the LLaVA tasks) wins over the template's list.
        path = opts.extra.get("instructions")
        choices = load_instructions(path) if path else list(tpl.instructions) or [FALLBACK_INSTRUCTION]
        for row in keep:
            sample_id = f"{self.name}:{row['id']}"
            # The human turn of the record: a description request, drawn per sample (seeded). It is
            # not sent to the model, so it does not enter the request key.
            question = placement_rng(opts.seed, "instruction:" + sample_id).choice(choices)
            yield Job(
                sample_id=sample_id,
                task=self.name,
                messages=tpl.messages(row["description"]),
                # The job carries its own filter setting: the engine may judge it with another instance.
                source={**row, "instruction": question, "min_ratio": min_ratio},
                template_hash=tpl.hash,
                max_tokens=tpl.max_tokens,
            )

    def parse(self, reply: str, job: Job) -> QAPairs:
        text = clean_reply(reply)
        if not text:
            raise ParseError("empty reply: no paragraph")
        return [(str(job.source.get("instruction") or FALLBACK_INSTRUCTION), text)]

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
