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
# records, resolved image paths (None without --images), --out, the format's own options → count.
# A writer may append lines for the user to options["notes"] (splits, samples left out).
Writer = Callable[[list[dict[str, Any]], "list[Path | None] | None", Path, dict[str, Any]], int]
# Options only some formats take (flag name → option key); the flow refuses them elsewhere.
SPECIFIC_OPTIONS = {
    "--mix": "mix",
    "--image-url-prefix": "image_url_prefix",
    "--max-file-mb": "max_file_mb",
    "--min-pixels": "min_pixels",
    "--max-pixels": "max_pixels",
    "--vqa-annotations": "vqa_annotations",
}


@dataclass(frozen=True)
class Format:
    name: str
    summary: str
    layout: Layout
    write: Writer | None = None  # None: the format has its own command flow (hf)
    needs_images: bool = False  # the output holds image files, so --images is required
    image_modes: tuple[str, ...] = ()  # the --image-mode values it takes (export/media.py); first = default
    accepts: tuple[str, ...] = ()  # the SPECIFIC_OPTIONS keys it takes

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
        from datagen.common.atomic import atomic_folder
        from datagen.export.trainers import write_hf_dataset

        # Folder outputs are built beside the target and moved into place when complete.
        with atomic_folder(out) as tmp:
            tmp.rmdir()  # save_to_disk wants to create its folder
            return write_hf_dataset(records, paths, tmp, kind, source=options.get("source"))

    return write


def _lazy(module: str, attr: str = "write", *args: str) -> Writer:
    """A writer imported on first use, so `datagen --help` does not import every format."""

    def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
        import importlib

        fn = getattr(importlib.import_module(f"datagen.export.{module}"), attr)
        return int((fn(*args) if args else fn)(records, paths, out, options))

    return write


PLACED = ("path", "copy", "link")  # formats whose data files name image files

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
    "llava-onevision": Format(
        "llava-onevision",
        "LLaVA-NeXT / OneVision data mix: one LLaVA JSON per task + mix.yaml (--mix TASK=STRATEGY)",
        "folder",
        _lazy("onevision"),
        image_modes=PLACED,
        accepts=("mix",),
    ),
    "ms-swift": Format(
        "ms-swift",
        "ms-swift JSONL: messages + images, grounded boxes as objects {ref, bbox} in pixels",
        "folder",
        _lazy("swift"),
        image_modes=PLACED,
    ),
    "internvl": Format(
        "internvl",
        "InternVL chat fine-tuning: <name>.jsonl + meta.json (root, annotation, length)",
        "folder",
        _lazy("internvl"),
        image_modes=PLACED,
    ),
    "qwen2.5-vl": Format(
        "qwen2.5-vl",
        "Qwen2.5-VL fine-tuning JSON + dataset entry; boxes as bbox_2d in resized-image pixels",
        "folder",
        _lazy("qwen", "writer", "qwen2.5-vl"),
        image_modes=PLACED,
        accepts=("min_pixels", "max_pixels"),
    ),
    "qwen3-vl": Format(
        "qwen3-vl",
        "Qwen3-VL fine-tuning JSON + dataset entry; boxes as bbox_2d on a 0-1000 scale",
        "folder",
        _lazy("qwen", "writer", "qwen3-vl"),
        image_modes=PLACED,
    ),
    "openai": Format(
        "openai",
        "OpenAI-style vision chat JSONL (image_url parts), split to the per-file limits",
        "folder",
        _lazy("openai_chat"),
        image_modes=("embed", "url"),
        accepts=("image_url_prefix", "max_file_mb"),
    ),
    "axolotl": Format(
        "axolotl",
        "axolotl multimodal chat_template JSONL + axolotl.yaml dataset settings",
        "folder",
        _lazy("axolotl"),
        image_modes=(*PLACED, "embed"),
    ),
    "torchtune": Format(
        "torchtune",
        "torchtune multimodal_chat_dataset JSON (dialogue + image_path) + torchtune.yaml",
        "folder",
        _lazy("torchtune"),
        image_modes=PLACED,
    ),
    "rlvr": Format(
        "rlvr",
        "RL with verifiable rewards (veRL / EasyR1 parquet): grounded QA and annotated VQA only",
        "folder",
        _lazy("rlvr"),
        needs_images=True,
        image_modes=("embed", "path"),
        accepts=("vqa_annotations",),
    ),
}


def get_format(name: str, *, flow_only: bool = False) -> Format:
    """The format called `name`; `flow_only`: one the shared flow can write (all but hf)."""
    known = [n for n, f in FORMATS.items() if f.write is not None or not flow_only]
    fmt = FORMATS.get(name)
    if fmt is None or name not in known:
        raise UsageError(f"unknown format '{name}'", hint=f"use one of: {', '.join(known)}")
    return fmt
