"""Write whole datasets in each trainer's format (`datagen adapt FORMAT`).

Records arrive validated (LLaVA loader rules) and, when an image root was given, with their images
resolved and checked (`export.images.check_images`, in `export.flow`); a writer only lays the files out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.common.jsonio import read_json, write_json_atomic
from datagen.errors import InputError
from datagen.export import convert
from datagen.export.hf_write import image_ranges, save_in_parts

PART_BYTES = 256 * 1024 * 1024  # images held in memory at once while writing trl/cauldron datasets

LLAMA_FACTORY_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
}


def write_llama_factory(
    records: list[dict[str, Any]], paths: list[Path | None] | None, out_dir: str | Path, name: str
) -> int:
    """`out_dir/<name>.json` (sharegpt messages + images) and its entry merged into `dataset_info.json`.

    Image paths are absolute when an image root was given (resolved, checked), otherwise the names
    from the records, which LLaMA-Factory resolves against its `media_dir`.
    """
    out = Path(out_dir)
    rows = []
    for i, rec in enumerate(records):
        image = str(paths[i]) if paths and paths[i] is not None else rec.get("image")
        rows.append(convert.to_llama_factory(rec, image))
    file_name = f"{name}.json"
    info_path = out / "dataset_info.json"
    info = read_json(info_path) if info_path.exists() else {}
    if not isinstance(info, dict):
        raise InputError(f"{info_path}: expected a JSON object of dataset entries")
    info[name] = {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": LLAMA_FACTORY_TAGS,
    }
    write_json_atomic(out / file_name, rows, indent=None)
    write_json_atomic(info_path, info)
    return len(rows)


def write_hf_dataset(
    records: list[dict[str, Any]],
    paths: list[Path | None] | None,
    out_dir: str | Path,
    kind: str,
    *,
    source: str | None = None,
) -> int:
    """TRL (`messages` + `images`) or the_cauldron (`images` + `texts`) as a dataset on disk.

    With resolved image paths the `images` column holds `Image` features with the file bytes;
    otherwise it holds the relative names.
    """
    import datasets

    datasets.disable_progress_bars()

    string = datasets.Value("string")
    image_feature = datasets.Image() if paths is not None else string
    columns: dict[str, list[Any]] = {}
    if kind == "trl":
        columns["messages"] = [convert.to_trl(r) for r in records]
        main = {
            "messages": datasets.List(
                {"role": string, "content": datasets.List({"type": string, "text": string})}
            )
        }
    else:
        columns["texts"] = [convert.to_cauldron(r, source or r.get("task") or "datagen") for r in records]
        main = {"texts": datasets.List({"user": string, "assistant": string, "source": string})}
    features = datasets.Features({"images": datasets.List(image_feature), **main})
    names = [rec.get("image") for rec in records]

    def cell(i: int) -> list[Any]:
        name = names[i]
        if name is None:
            return []
        if paths is None:
            return [name]
        return [{"bytes": paths[i].read_bytes(), "path": name}]  # type: ignore[union-attr]

    def build(a: int, b: int) -> datasets.Dataset:
        # Image bytes are read here, one part at a time, so memory holds one part's images.
        images = [cell(i) for i in range(a, b)]
        return datasets.Dataset.from_dict(
            {**{k: v[a:b] for k, v in columns.items()}, "images": images}, features=features
        )

    ranges = image_ranges(paths, PART_BYTES) if paths is not None else [(0, len(records))]
    save_in_parts(build, ranges, Path(out_dir))
    return len(records)
