"""Read the image descriptions that `caption_rewrite` cleans: the first step of the rewrite flow.

Input is one description per image, from a JSONL file, a JSON array, a CSV/TSV file, a MiniGPT-4
`filter_cap.json` (`{"annotations": [{"image_id", "caption"}]}`), or the detail descriptions of an
earlier LLaVA run (`--from-run RUN_DIR`). Every row becomes
`{"id": str, "image": str, "description": str}`; a row we cannot read is an error naming the file
and row, never a silent skip. Descriptions too short to be worth a paid call are split off here, so
they are reported as failures before any request is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_csv_rows, iter_jsonl, read_json
from datagen.errors import InputError
from datagen.rundir.store import RESULTS
from datagen.tasks.base import Rejected

ID_FIELDS = ("image_id", "image", "id")
TEXT_FIELDS = ("caption", "description")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
DEFAULT_MIN_WORDS = 10
SHORT_INPUT_FILTER = "too_short_input"
TASK = "caption_rewrite"


def _raw_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, row) pairs in file order, `where` being `file:line` or `file[index]`."""
    if not path.exists():
        raise InputError(f"{path}: no such file", hint="check the --descriptions path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a descriptions file (.jsonl, .json, .csv)")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for line, obj in iter_jsonl(path):
            yield f"{path}:{line}", obj
    elif suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("annotations"), list):
            items = data["annotations"]  # MiniGPT-4 filter_cap.json
            yield from ((f"{path}: annotations[{i}]", row) for i, row in enumerate(items))
        elif isinstance(data, list):
            yield from ((f"{path}[{i}]", row) for i, row in enumerate(data))
        else:
            raise InputError(
                f"{path}: expected a JSON array of rows or a MiniGPT-4 filter_cap.json "
                f'({{"annotations": [...]}}), got {type(data).__name__}'
            )
    elif suffix in (".csv", ".tsv"):
        yield from _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    else:
        raise InputError(
            f"{path}: unknown descriptions format '{suffix or '(no suffix)'}'",
            hint="use .jsonl, .json (array or filter_cap.json), .csv or .tsv",
        )


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[str, Any]]:
    for line, row in iter_csv_rows(path, delimiter=delimiter):
        yield f"{path}:{line}", row


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any] | None:
    for name in names:
        value = row.get(name)
        if value is not None and str(value).strip() != "":
            return name, value
    return None


def normalize_row(
    row: Any, where: str, *, id_field: str | None = None, text_field: str | None = None
) -> dict[str, str]:
    """One input row → `{"id", "image", "description"}`, or an `InputError` naming `where`."""
    if not isinstance(row, dict):
        raise InputError(
            f"{where}: expected an object with an id and a description, got {type(row).__name__}"
        )
    id_names = (id_field,) if id_field else ID_FIELDS
    text_names = (text_field,) if text_field else TEXT_FIELDS
    picked_id = _pick(row, id_names)
    if picked_id is None:
        raise InputError(
            f"{where}: no image id (looked for field {' / '.join(id_names)})",
            hint="name the id column with --id-field",
        )
    picked_text = _pick(row, text_names)
    if picked_text is None:
        if any(name in row for name in text_names):
            text = ""  # present but empty: reported later as too short, not an error
        else:
            raise InputError(
                f"{where}: no description (looked for field {' / '.join(text_names)})",
                hint="name the text column with --text-field",
            )
    else:
        if not isinstance(picked_text[1], str):
            raise InputError(
                f"{where}: field '{picked_text[0]}' is {type(picked_text[1]).__name__}, expected text"
            )
        text = picked_text[1]
    name, value = picked_id
    if isinstance(value, (dict, list, bool, float)):
        raise InputError(
            f"{where}: field '{name}' must be a string or integer id, got {type(value).__name__}"
        )
    value = str(value).strip()
    image = row.get("image") if name != "image" else value
    if Path(value).suffix.lower() in IMAGE_SUFFIXES:
        # An id that is a file name: MiniGPT-4 names images by stem, so the stem is the id.
        image, value = value, Path(value).stem
    if not isinstance(image, str) or not image.strip():
        image = f"{value}.jpg"  # MiniGPT-4's layout: image/<image_id>.jpg
    return {"id": value, "image": image.strip(), "description": text.strip()}


def read_descriptions(
    path: str | Path, *, id_field: str | None = None, text_field: str | None = None
) -> list[dict[str, str]]:
    """All descriptions in `path`, in file order; duplicate ids are an error naming both rows."""
    p = Path(path)
    seen: dict[str, str] = {}
    out: list[dict[str, str]] = []
    for where, raw in _raw_rows(p):
        row = normalize_row(raw, where, id_field=id_field, text_field=text_field)
        if row["id"] in seen:
            raise InputError(
                f"{where}: duplicate image id '{row['id']}' (first at {seen[row['id']]})",
                hint="keep one description per image",
            )
        seen[row["id"]] = where
        out.append(row)
    if not out:
        raise InputError(f"{p}: no descriptions found", hint="the file is empty")
    return out


def read_from_run(run_dir: str | Path, *, task: str = "detail_description") -> list[dict[str, str]]:
    """The `task` samples of an earlier run: id and image from the record, text from its gpt turn."""
    p = Path(run_dir)
    results = p / RESULTS if p.is_dir() else p
    if not results.exists():
        raise InputError(f"{p}: not a run directory (no {RESULTS})", hint="pass the --out folder of a run")
    seen: dict[str, str] = {}
    out: list[dict[str, str]] = []
    tasks_found: set[str] = set()
    for line, rec in iter_jsonl(results, tolerate_torn_tail=True):
        where = f"{results}:{line}"
        tasks_found.add(str(rec.get("task")))
        if rec.get("task") != task:
            continue
        turns = rec.get("conversations")
        gpt = [t.get("value") for t in turns or [] if isinstance(t, dict) and t.get("from") == "gpt"]
        if not gpt or not isinstance(gpt[0], str) or "id" not in rec:
            raise InputError(f"{where}: {task} record without an id or a gpt turn")
        row = {
            "id": str(rec["id"]),
            "image": str(rec.get("image") or f"{rec['id']}.jpg"),
            "description": gpt[0].strip(),
        }
        if row["id"] in seen:
            raise InputError(
                f"{where}: duplicate {task} sample for id '{row['id']}' (first at {seen[row['id']]})"
            )
        seen[row["id"]] = where
        out.append(row)
    if not out:
        found = ", ".join(sorted(tasks_found)) or "none"
        raise InputError(f"{results}: no {task} samples to rewrite (tasks found: {found})")
    return out


def word_count(text: str) -> int:
    return len(text.split())


def split_short(
    rows: list[dict[str, str]], min_words: int
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows long enough to rewrite, and rows shorter than `min_words` words (reported, not sent)."""
    keep: list[dict[str, str]] = []
    short: list[dict[str, str]] = []
    for row in rows:
        (short if word_count(row["description"]) < min_words else keep).append(row)
    return keep, short


def short_input_rejection(row: dict[str, str], min_words: int) -> Rejected:
    """A description refused before any call (too short to be worth a paid rewrite)."""
    n = word_count(row["description"])
    return Rejected(
        sample_id=f"{TASK}:{row['id']}",
        task=TASK,
        source=row,
        filter=SHORT_INPUT_FILTER,
        reason=f"{SHORT_INPUT_FILTER}: {n} words, fewer than --min-words {min_words}",
        raw=row["description"],
    )
