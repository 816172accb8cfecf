"""Step 5 of CC3M filtering: write the pool as LLaVA-CC3M-Pretrain-595K style files.

`chat.json`: `{"id", "image", "conversations": [human: "<instruction>\\n<image>", gpt: raw caption]}`
with ids `GCC_train_%09d` of the row index; `metadata.json`: `{"id", "image", "caption", "url"}`;
`stats.json`: counts and the two phrase-frequency histograms; optionally a PNG of those histograms.
Captions and URLs are read again from the input (the cache holds only phrases), in one pass.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from datagen.cc3m.reader import iter_selected
from datagen.common.jsonio import atomic_writer, write_json_atomic
from datagen.common.resources import templates_root
from datagen.errors import ConfigError, InputError
from datagen.prompts.instructions import load_instructions as load_instruction_list
from datagen.records import IMAGE_TOKEN

DEFAULT_ID_PREFIX = "GCC_train_"


def default_instructions_file() -> Path:
    return templates_root() / "cc3m_brief" / "instructions.txt"


def load_instructions(path: Path | None) -> list[str]:
    """`--instructions FILE`, else our brief-caption list (same file rules as every instruction list)."""
    return load_instruction_list(path or default_instructions_file())


def build_records(
    input_path: Path, pool: np.ndarray, instructions: list[str], *, seed: int, id_prefix: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`(chat records, metadata records)` for the pooled rows, in ascending row order."""
    mask = np.zeros(int(pool[-1]) + 1 if len(pool) else 0, dtype=bool)
    mask[pool] = True
    wanted = mask.tolist()  # list indexing is several times faster than numpy scalar indexing
    # Its own RNG (string seeds are stable across runs), so the instruction draw never disturbs the
    # selection RNG, and one row's instruction depends only on the seed and the rows before it.
    rng = random.Random(f"cc3m-instructions:{seed}")
    chat, meta = [], []
    for item in iter_selected(input_path, wanted):
        if item.skip is not None:  # the cache and the file disagree: the file changed under us
            raise InputError(f"{input_path}: row {item.row} is no longer a usable caption", hint="re-run")
        name = f"{id_prefix}{item.row:09d}"
        chat.append(
            {
                "id": name,
                "image": f"{name}.jpg",
                "conversations": [
                    {"from": "human", "value": f"{rng.choice(instructions)}\n{IMAGE_TOKEN}"},
                    {"from": "gpt", "value": item.caption},
                ],
            }
        )
        meta.append({"id": name, "image": f"{name}.jpg", "caption": item.caption, "url": item.url})
    if len(chat) != len(pool):
        raise InputError(f"{input_path}: shorter than its noun-phrase cache", hint="re-run")
    return chat, meta


def write_record_array(path: Path, records: list[dict[str, Any]]) -> None:
    """A JSON array with one record per line, written atomically (temp file + rename).

    Not `json.dump`: for a file it runs the pure-Python encoder, 3-4x slower than `json.dumps` per
    record on ~600K records. One record per line also keeps the file greppable and diffable.
    """
    with atomic_writer(path) as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(r, ensure_ascii=False) for r in records))
        f.write("\n]\n" if records else "]\n")


def write_outputs(out: Path, chat: list[dict], meta: list[dict], stats: dict[str, Any]) -> None:
    write_record_array(out / "chat.json", chat)
    write_record_array(out / "metadata.json", meta)
    write_json_atomic(out / "stats.json", stats, indent=2)


PLOT = "phrase_frequencies.png"


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "--plot needs matplotlib", hint="pip install 'datagen[plot]', or drop --plot"
        ) from None
    return plt


def check_plot() -> None:
    """`--plot` without matplotlib fails here, before any extraction (not after an hour of it)."""
    _pyplot()


def plot_histograms(path: Path, hist_before: dict[int, int], hist_after: dict[int, int]) -> None:
    """Rank-frequency curves of the noun phrases before and after filtering (as in LLaVA's paper)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    for label, hist in (("before filtering", hist_before), ("after filtering", hist_after)):
        freqs = np.repeat(
            np.array(sorted(hist, reverse=True), dtype=np.int64),
            [hist[f] for f in sorted(hist, reverse=True)],
        )
        if len(freqs):
            ax.plot(np.arange(1, len(freqs) + 1), freqs, label=f"{label} ({len(freqs):,} unique phrases)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("noun phrases, most frequent first")
    ax.set_ylabel("captions containing the phrase")
    ax.set_title("CC3M noun-phrase frequencies")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
