"""Name an HF export's data files by their content: the last step of `export hf` before the card.

`datasets.load_dataset(FOLDER)` keys its cache for a local folder on the card's `configs` entry
(the `data_files` patterns) and the folder's name, never on the files' bytes (datasets 5.2 hashes
the patterns, not the files they match). Two exports with the same file names therefore share
one cache entry, and a re-export over an old folder loads the old rows. So every data file name
carries a fingerprint of the export's data, and the card's patterns name it (`split_patterns`):
different data get a different cache entry, the same data re-exported reuse theirs.

The fingerprint is a sha256 over every data file's relative path and bytes (parquet shards, or the
`.arrow` files of a `save_to_disk` folder), so it covers rows, schema and split layout. It is
appended to the name (`train-00000-of-00001-<fp>.parquet`), which keeps the
`<split>-NNNNN-of-NNNNN` shape `datasets` and the Hub recognise even without a card.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

FP_CHARS = 12  # 48 bits: enough to tell apart every export a user will ever load
_READ = 1 << 20


def _data_files(folder: Path, fmt: str) -> list[Path]:
    pattern = "data/*.parquet" if fmt == "parquet" else "*/data-*.arrow"
    return sorted(folder.glob(pattern))


def _file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            h.update(chunk)
    return h.digest()


def stamp_folder(folder: Path, fmt: str) -> str:
    """Fingerprint the data files under `folder`, rename each to carry it; returns the fingerprint.

    In a `save_to_disk` folder each split's `state.json` is updated to the new names, and its
    `_fingerprint` (which names `.map()` cache files) becomes content-derived too, so the same data
    give a byte-identical folder.
    """
    files = _data_files(folder, fmt)
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(folder).as_posix().encode() + b"\0" + _file_digest(f) + b"\n")
    full = h.hexdigest()
    fp = full[:FP_CHARS]
    for f in files:
        f.rename(f.with_name(f"{f.stem}-{fp}{f.suffix}"))
    if fmt == "arrow":
        for state_path in sorted(folder.glob("*/state.json")):
            state = json.loads(state_path.read_text(encoding="utf-8"))
            for entry in state.get("_data_files", []):
                stem, suffix = entry["filename"].rsplit(".", 1)
                entry["filename"] = f"{stem}-{fp}.{suffix}"
            split = state_path.parent.name
            state["_fingerprint"] = hashlib.sha256(f"{full}/{split}".encode()).hexdigest()[:16]
            state_path.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    return fp


def split_patterns(splits: list[str], fmt: str, fp: str) -> dict[str, str]:
    """The card's `data_files` pattern for each split: only this export's files match it."""
    if fmt == "parquet":
        return {s: f"data/{s}-*-{fp}.parquet" for s in splits}
    return {s: f"{s}/data-*-{fp}.arrow" for s in splits}
