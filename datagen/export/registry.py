"""Every output format by name: the one registry behind `datagen export FORMAT` and `datagen adapt FORMAT`.

A format is one writer module plus one entry here. `layout` says what `--out` names (a file, a
folder that is replaced whole, or a folder merged into), which decides the overwrite check
(`outputs.claim_output`). Formats with a `write` function go through the shared flow in
`export.flow` (inputs, exclusions, task filter, shuffle, image checks); `hf` has its own planner
(splits, schema, dataset card, Hub push) but obeys the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from datagen.errors import UsageError

Layout = Literal["file", "folder", "merge"]
# records, resolved image paths (None without --images), --out, the format's own options → count
Writer = Callable[[list[dict[str, Any]], "list[Path | None] | None", Path, dict[str, Any]], int]


@dataclass(frozen=True)
class Format:
    name: str
    summary: str
    layout: Layout
    write: Writer | None = None  # None: the format has its own command flow (hf)
    needs_images: bool = False  # the output holds image files, so --images is required

    def outputs(self, out: Path, options: dict[str, Any]) -> list[Path]:
        """The paths a write replaces (what must not be an input, and what --overwrite guards)."""
        if self.layout == "merge":
            return [out / f"{options.get('name') or 'datagen'}.json", out / "dataset_info.json"]
        return [out]

    def claims(self, out: Path, options: dict[str, Any]) -> list[Path]:
        """The paths the overwrite rule guards: a merge format's own data file, not the shared index
        it adds an entry to."""
        return self.outputs(out, options)[:1]


def _llava(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    from datagen.export.llava import to_llava, write_llava_json

    return write_llava_json(out, (to_llava(r) for r in records))


def _minigpt4(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    from datagen.export.minigpt4 import export_minigpt4

    plan = export_minigpt4(
        records,
        out,
        images_root=options["images"],
        mode="link" if options.get("link") else "copy",
        skip_bad_images=bool(options.get("skip_missing")),
        overwrite=True,  # the flow has applied the overwrite rule already
    )
    return len(plan.annotations)


def _llama_factory(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    from datagen.export.trainers import write_llama_factory

    return write_llama_factory(records, paths, out, options.get("name") or "datagen")


def _hf_dataset(kind: str) -> Writer:
    def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
        from datagen.common.jsonio import atomic_folder
        from datagen.export.trainers import write_hf_dataset

        # Folder outputs are built beside the target and moved into place when complete.
        with atomic_folder(out) as tmp:
            tmp.rmdir()  # save_to_disk wants to create its folder
            return write_hf_dataset(records, paths, tmp, kind, source=options.get("source"))

    return write


FORMATS: dict[str, Format] = {
    "llava": Format("llava", "LLaVA-Instruct JSON array {id, image, conversations}", "file", _llava),
    "hf": Format("hf", "Hugging Face dataset (parquet or arrow), dataset card, Hub push", "folder"),
    "minigpt4": Format(
        "minigpt4",
        "MiniGPT-4 stage-2 folder: filter_cap.json + image/",
        "folder",
        _minigpt4,
        needs_images=True,
    ),
    "llama-factory": Format(
        "llama-factory", "LLaMA-Factory sharegpt JSON + dataset_info.json entry", "merge", _llama_factory
    ),
    "trl": Format("trl", "TRL vision SFT dataset (messages + images)", "folder", _hf_dataset("trl")),
    "cauldron": Format(
        "cauldron", "the_cauldron-style dataset (images + texts)", "folder", _hf_dataset("cauldron")
    ),
}


def get_format(name: str, *, flow_only: bool = False) -> Format:
    """The format called `name`; `flow_only`: one the shared flow can write (all but hf)."""
    known = [n for n, f in FORMATS.items() if f.write is not None or not flow_only]
    fmt = FORMATS.get(name)
    if fmt is None or name not in known:
        raise UsageError(f"unknown format '{name}'", hint=f"use one of: {', '.join(known)}")
    return fmt
