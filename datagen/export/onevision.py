"""`datagen export llava-onevision`: a LLaVA-NeXT / OneVision data mix (the last step for that trainer).

LLaVA-NeXT's training script takes `--data_path mix.yaml`: a list of `datasets`, each a `json_path`
(a LLaVA JSON array) and a `sampling_strategy`: `all`, `first:N`, `end:N` or `random:N`, where N is a
count or a whole percentage (`first:10%`, rounded up). It opens each image as
`os.path.join(--image_folder, image)`. We write one JSON file per task (`<task>.json`, LLaVA records)
and `mix.yaml` naming them by absolute path, with the strategy `--mix TASK=STRATEGY` gave (default
`all`). Boxes stay in LLaVA's own convention (fractions of the image size).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_text_atomic
from datagen.errors import UsageError
from datagen.export.layout import trainer_folder, yaml_value
from datagen.export.llava import task_of, to_llava, write_llava_json
from datagen.export.media import media_for

MIX_FILE = "mix.yaml"
_STRATEGY = re.compile(r"^(all|(first|end|random):(\d+)%?)$")


def parse_mix(items: list[str] | None, tasks: list[str]) -> dict[str, str]:
    """`--mix TASK=STRATEGY` values → {task: strategy}; every task not named gets `all`."""
    mix = {t: "all" for t in tasks}
    for item in items or []:
        task, sep, strategy = item.partition("=")
        task, strategy = task.strip(), strategy.strip()
        if not sep or not task:
            raise UsageError(f"--mix {item!r}: write TASK=STRATEGY, e.g. --mix conversation=first:50%")
        if task not in mix:
            raise UsageError(
                f"--mix {item!r}: no exported sample is of task '{task}'",
                hint=f"the tasks in this export: {', '.join(tasks)}",
            )
        m = _STRATEGY.match(strategy)
        if m is None:
            raise UsageError(
                f"--mix {item!r}: the strategy must be all, first:N, end:N or random:N (N a count or N%)"
            )
        if m.group(3) is not None and strategy.endswith("%") and not 0 < int(m.group(3)) <= 100:
            raise UsageError(f"--mix {item!r}: a percentage must be between 1% and 100%")
        mix[task] = strategy
    return mix


def mix_yaml(entries: list[tuple[Path, str, int]], image_folder: str) -> str:
    lines = [
        "# LLaVA-NeXT / OneVision data mix written by datagen.",
        "# Train with: --data_path <this file>"
        + (f" --image_folder {image_folder}" if image_folder else " --image_folder <your image folder>"),
        "datasets:",
    ]
    for path, strategy, count in entries:
        lines.append(f"  - json_path: {yaml_value(str(path))}  # {count} samples")
        lines.append(f"    sampling_strategy: {yaml_value(strategy)}")
    return "\n".join(lines) + "\n"


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    media = media_for(records, paths, out, options)
    counts = Counter(task_of(r) for r in records)
    tasks = list(counts)
    bad = [t for t in tasks if not re.fullmatch(r"[A-Za-z0-9_.-]+", t) or t.startswith(".")]
    if bad:
        raise UsageError(f"task name {bad[0]!r} cannot be a file name", hint="filter it out with --task")
    mix = parse_mix(options.get("mix"), tasks)
    final = Path(out).absolute()
    with trainer_folder(out, media) as tmp:
        entries = []
        for task in tasks:
            rows = (to_llava(r) for r in records if task_of(r) == task)
            write_llava_json(tmp / f"{task}.json", rows)
            entries.append((final / f"{task}.json", mix[task], counts[task]))
        write_text_atomic(tmp / MIX_FILE, mix_yaml(entries, media.root))
    return len(records)
