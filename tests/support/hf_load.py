"""Load exported datasets the way a user does: `datasets` in a fresh process, with a private cache.

`datasets` reads `HF_DATASETS_CACHE` and `HF_HUB_OFFLINE` when it is imported, and the test worker
has imported it long before, so each call starts a child interpreter with both set. One child
loads several outputs in order, like a user running one `python -c` after another against the
same cache. What comes back is every row of every split as JSON (image bytes left out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.paths import REPO

_CHILD = r"""
import json, sys
import datasets

datasets.disable_progress_bars()


def rows(d):
    if isinstance(d.features.get("image"), datasets.Image):  # the path, not a decoded picture
        d = d.cast_column("image", datasets.Image(decode=False))
    out = []
    for row in d:
        if isinstance(row.get("image"), dict):
            row["image"] = row["image"]["path"]
        out.append(row)
    return out


result = []
for how, target in json.loads(sys.argv[1]):
    if how == "load_dataset":
        d = datasets.load_dataset(target)
    elif how == "json":  # how LLaMA-Factory reads its data files
        d = datasets.load_dataset("json", data_files=target)
    elif how == "parquet":  # a parquet file (veRL / EasyR1 read theirs this way)
        d = datasets.load_dataset("parquet", data_files=target)
    elif how == "parquet_dir":  # an `export hf` folder read as plain parquet, ignoring its card
        d = datasets.load_dataset("parquet", data_dir=target)
    else:  # load_from_disk, then a .map() as a trainer's tokenisation would (it writes a cache file)
        d = datasets.load_from_disk(target).map(lambda r: {"mapped": True}).remove_columns("mapped")
    splits = d if isinstance(d, datasets.DatasetDict) else {"": d}
    result.append({name: rows(s) for name, s in splits.items()})
print(json.dumps(result, default=lambda b: f"<{len(b)} bytes>"))  # embedded image bytes
"""


def load_in_child(loads: list[tuple[str, Path]], cache: Path) -> list[dict[str, list[dict[str, Any]]]]:
    """Run each `(how, path)` load in one child process.

    `how`: load_dataset | json | parquet | parquet_dir | load_from_disk.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_DATASETS_CACHE=str(cache),
        HF_HUB_OFFLINE="1",
        HF_HOME=str(cache.parent / "hf_home"),
        PYTHONPATH=str(REPO),
    )
    arg = json.dumps([(how, str(path)) for how, path in loads])
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, arg], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])
