"""VQA v2 / OK-VQA files: read questions, write the results format, collect a run's VQA outputs.

- questions: `{"questions": [{"image_id", "question", "question_id"}, ...]}` (both datasets' layout);
- results: `[{"question_id", "answer"}, ...]` — what the official evaluation and `datagen eval vqa` read;
- examples pool (`img2llm_qa` writes, `vqa_answer --examples` reads): JSONL of
  `{"context", "question", "answer", "image_id"}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.common.jsonio import read_json
from datagen.errors import InputError
from datagen.rundir.store import RunStore

VQA_RESULTS = "vqa_results.json"
VQA_EXAMPLES = "vqa_examples.jsonl"
QUESTION_CAPTIONS = "question_captions.jsonl"  # question_caption's side file


def as_int(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise InputError(f"{where}: {what} must be an integer, got {value!r}")
    return int(value)


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    """Questions in file order as `{"question_id": int, "image_id": int, "question": str}`."""
    data = read_json(path)
    qs = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(qs, list):
        raise InputError(f'{path}: expected {{"questions": [...]}} (VQA v2 / OK-VQA questions file)')
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, q in enumerate(qs):
        where = f"{path}: questions[{i}]"
        if not isinstance(q, dict):
            raise InputError(f"{where}: not an object")
        qid = as_int(q.get("question_id"), "question_id", where)
        image_id = as_int(q.get("image_id"), "image_id", where)
        text = q.get("question")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where} (question {qid}): 'question' must be a non-empty string")
        if qid in seen:
            raise InputError(f"{where}: question_id {qid} appears twice")
        seen.add(qid)
        out.append({"question_id": qid, "image_id": image_id, "question": text.strip()})
    return out


def write_vqa_results(run: RunStore) -> Path | None:
    """`RUN_DIR/vqa_results.json` from the run's `vqa_answer` samples (None if it has none)."""
    rows = run.results_by_task().get("vqa_answer", [])
    if not rows:
        return None
    answers = {int(r["question_id"]): r["answer"] for r in rows if "question_id" in r and "answer" in r}
    return run.write_side_json(
        VQA_RESULTS, [{"question_id": q, "answer": a} for q, a in sorted(answers.items())]
    )


def write_vqa_examples(run: RunStore) -> Path | None:
    """`RUN_DIR/vqa_examples.jsonl` from the run's `img2llm_qa` samples (None if it has none)."""
    rows = run.results_by_task().get("img2llm_qa", [])
    if not rows:
        return None
    # A re-run with other settings (e.g. --temperature) adds a second sample for an image; keep the
    # later one, as vqa_results.json does, so the pool does not hold every example twice.
    latest = {r.get("sample_id", r.get("id")): r for r in rows}
    examples = []
    for r in latest.values():
        for pair in r.get("qa_pairs", []):
            examples.append(
                {
                    "context": r["qa_context"],
                    "question": pair["question"],
                    "answer": pair["answer"],
                    "image_id": r.get("image_id"),
                }
            )
    return run.write_side_jsonl(VQA_EXAMPLES, examples)


def write_run_outputs(run_dir: str | Path) -> list[Path]:
    """Every VQA-side file a run's samples allow (what the two VQA tasks' `after_run` write)."""
    run = RunStore(run_dir)
    return [p for p in (write_vqa_results(run), write_vqa_examples(run)) if p is not None]


def load_question_captions(run_dir: str | Path) -> dict[int, str]:
    """{question_id: caption} from an earlier `question_caption` run directory."""
    store = RunStore(run_dir)
    if not store.results_path.is_file():
        raise InputError(
            f"--captions-from {run_dir}: no results.jsonl there", hint="run question_caption into it first"
        )
    rows = store.results_by_task().get("question_caption", [])
    if not rows:
        raise InputError(
            f"--captions-from {run_dir}: its results.jsonl has no question_caption samples",
            hint="give the run directory of `datagen generate question_caption`",
        )
    return {int(r["question_id"]): str(r["caption"]) for r in rows if r.get("question_id") is not None}
