"""`datagen judge`'s settings: what to judge, with which rubric, and where the images' context comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datagen.common.resources import templates_root
from datagen.errors import UsageError

DEFAULT_RUBRIC = "default"
PAIRWISE_RUBRIC = "pairwise"
DEFAULT_BOOTSTRAP = 2000
NO_CONTEXT = "no_context"  # the pre-call filter of samples whose captions and boxes were not found


@dataclass
class JudgeOptions:
    """One judge run's options (recorded in run.json under `judge`); None = default."""

    META_KEY = "judge"

    inputs: list[str] = field(default_factory=list)  # judge: run dirs, results.jsonl, LLaVA JSON, HF datasets
    pairwise: list[str] = field(default_factory=list)  # judge_pairwise: [A, B]
    rubric: str | None = None  # a name under templates/judge/ or a folder
    contexts: list[str] = field(default_factory=list)  # context JSONL files (`datagen context --out`)
    source: dict[str, str] | None = None  # source flags as strings (--coco/--split, --input, ...)
    bootstrap: int | None = None  # resamples for the relative score's confidence interval

    def rubric_folder(self, pairwise: bool) -> Path:
        """The rubric's template folder: a name under templates/judge/, or a folder of its own."""
        name = self.rubric or (PAIRWISE_RUBRIC if pairwise else DEFAULT_RUBRIC)
        bundled = templates_root() / "judge" / name
        if "/" not in name and "\\" not in name and bundled.is_dir():
            return bundled
        folder = Path(name)
        if not folder.is_dir():
            names = sorted(p.name for p in (templates_root() / "judge").iterdir() if p.is_dir())
            raise UsageError(
                f"--rubric {name}: no such rubric", hint=f"a folder, or one of: {', '.join(names)}"
            )
        return folder

    @property
    def resamples(self) -> int:
        n = DEFAULT_BOOTSTRAP if self.bootstrap is None else int(self.bootstrap)
        if n < 100:
            raise UsageError(f"--bootstrap must be at least 100, got {n}")
        return n
