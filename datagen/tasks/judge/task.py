"""`judge` and `judge_pairwise`: a model scores finished samples, through the same engine as `generate`.

`judge` sends one request per sample: the rubric's system message and few-shot verdicts
(`templates/judge/<rubric>/`), then what is known about the image and the sample's turns. Its
results line is keyed by the sample (`judged`, see `rundir.judged`) and carries the 1-10 `score`,
the sub-scores and a short `reason`; `export --min-judge-score` filters on it.

`judge_pairwise` sends one request per pair of samples (same image and question, from inputs A and
B) with both samples in it, B first on every other pair to cancel position bias; its results line
says which sample got which score (`score_a`, `score_b`, `swapped`), and `after_run` writes
`pairwise.json` with LLaVA-Bench's relative score (`relative.py`).

Being tasks, both get concurrency, rate limits, resume, `--batch`, `--dry-run` and `--structured`
(the verdict as JSON) from the engine, like any generation task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from datagen.errors import UsageError
from datagen.prompts.templates import TaskTemplate, load_template
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job, JobSet, QAPairs, Rejected, Task, TaskOptions
from datagen.tasks.judge.inputs import pair_rows, single_rows
from datagen.tasks.judge.options import NO_CONTEXT, JudgeOptions
from datagen.tasks.judge.relative import write_pairwise_summary
from datagen.tasks.judge.verdict import (
    PAIR_VERDICT,
    VERDICT,
    pair_prompt,
    parse_pair_verdict,
    parse_verdict,
    sample_prompt,
    verdict_fields,
)
from datagen.tasks.structured import ReplyFormat, is_structured, structured_template


class _Judge(Task):
    """What both judges share: the rubric, refusing rows without context, the verdict parser."""

    options_type = JudgeOptions
    own_input = "samples"
    input_hint = "use `datagen judge INPUT... --model M --out JUDGE_DIR`"
    precall_filters = (NO_CONTEXT,)
    pairwise = False
    reply_format: ReplyFormat
    text_parser: Callable[[str], QAPairs]
    prompt: Callable[[dict[str, Any], list[str]], str]

    def __init__(self) -> None:
        self._notes: list[str] = []

    def rubric(self, opts: TaskOptions) -> tuple[TaskTemplate, str]:
        folder = opts.of(JudgeOptions).rubric_folder(self.pairwise)
        tpl = load_template(folder.name, folder.parent)
        if opts.structured:
            tpl = structured_template(
                tpl, self.reply_format, lambda _ctx, answer: type(self).text_parser(answer)
            )
        return tpl, folder.name

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        tpl, name = self.rubric(opts)
        fields = tpl.context_fields
        response_format = self.reply_format.response_format() if opts.structured else None
        out = JobSet(notes=list(self._notes))
        for row in sources:
            sample_id = f"{self.name}:{row.get('judged') or row.get('pair')}"
            if row.get("context") is None:
                out.rejected.append(
                    Rejected(
                        sample_id,
                        self.name,
                        row,
                        NO_CONTEXT,
                        f"no captions/boxes found for image {row['id']} (pass --coco DIR --split S, "
                        "--captions/--instances, --input or --contexts)",
                    )
                )
                continue
            out.jobs.append(
                Job(
                    sample_id=sample_id,
                    task=self.name,
                    messages=tpl.messages(type(self).prompt(row, fields)),
                    source={**row, "rubric": name},
                    template_hash=tpl.hash,
                    max_tokens=tpl.max_tokens,
                    response_format=response_format,
                )
            )
        return out

    def parse(self, reply: str, job: Job) -> QAPairs:
        if is_structured(job):
            return self.reply_format.parse(reply, job)
        return type(self).text_parser(reply)

    def describe_rejected(self, rejected: list[Rejected], where: str, limit: int = 5) -> str:
        ids = ", ".join(str(r.source.get("id")) for r in rejected[:limit])
        more = ", ..." if len(rejected) > limit else ""
        return (
            f"{len(rejected)} sample(s) have no captions/boxes to judge against ({ids}{more}); {where} "
            "(pass --coco DIR --split S, --captions/--instances, --input or --contexts)"
        )


class JudgeTask(_Judge):
    name = "judge"
    reply_format = VERDICT
    text_parser = staticmethod(parse_verdict)
    prompt = staticmethod(sample_prompt)

    def load_sources(self, opts: TaskOptions) -> list[dict[str, Any]]:
        o = opts.of(JudgeOptions)
        if not o.inputs:
            raise UsageError("judge needs samples to score", hint=self.input_hint)
        rows, self._notes = single_rows(o)
        return rows

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        s = job.source
        return {
            "id": s["id"],
            "image": s.get("image"),
            "judged": s["judged"],
            "judged_task": s.get("judged_task"),
            "content": s["content"],
            "rubric": s["rubric"],
            **verdict_fields(pairs),
        }


class PairwiseJudgeTask(_Judge):
    name = "judge_pairwise"
    pairwise = True
    reply_format = PAIR_VERDICT
    text_parser = staticmethod(parse_pair_verdict)
    prompt = staticmethod(pair_prompt)

    def __init__(self) -> None:
        super().__init__()
        self._summary: dict[str, Any] = {}

    def load_sources(self, opts: TaskOptions) -> list[dict[str, Any]]:
        o = opts.of(JudgeOptions)
        if len(o.pairwise) != 2:
            raise UsageError("judge_pairwise needs two inputs", hint="use `datagen judge --pairwise A B ...`")
        # what after_run needs to write pairwise.json (it sees only the run directory)
        self._summary = {"a": o.pairwise[0], "b": o.pairwise[1], "resamples": o.resamples, "seed": opts.seed}
        rows, self._notes = pair_rows(o)
        return rows

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        s = job.source
        v = verdict_fields(pairs)
        first, second = v["score_1"], v["score_2"]
        a, b = (second, first) if s["swapped"] else (first, second)
        return {
            "id": s["id"],
            "image": s.get("image"),
            "pair": s["pair"],
            "judged_task": s.get("judged_task"),
            "rubric": s["rubric"],
            "score_a": a,
            "score_b": b,
            "swapped": s["swapped"],
            "reason": v["reason"],
        }

    def after_run(self, run: RunStore) -> list[Path]:
        written = write_pairwise_summary(run, **self._summary) if self._summary else None
        return [written] if written else []
