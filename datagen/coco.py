"""COCO annotation files → context records (the first step of the LLaVA flow).

We parse each file once with `json.load` (through `jsonio`, for one-line errors naming the file),
check its shape, and hand it to pycocotools' own `COCO.createIndex` for the per-image grouping
(`imgToAnns`, `cats`). That is exactly the work `COCO(path)` does, so building contexts costs one
pycocotools load plus one pass over the index. pycocotools' loading chatter is kept off stdout.

To stay within pycocotools' own peak memory we never keep what contexts do not need: captions are
turned into records and their COCO object dropped before the instances file is parsed, and each
instance's `segmentation` (most of the file's weight) is deleted as its box is read.

Bad annotations are not fatal one by one: each is skipped (or, for boxes poking outside the image,
clamped) and counted in a `SkipReport` with the first few offending ids. Structural problems
(missing file, not JSON, no `images`, duplicate image ids) raise `InputError`.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.errors import InputError
from datagen.jsonio import read_json
from datagen.records import coco_id

EXAMPLES_KEPT = 5


@dataclass
class SkipReport:
    """Counts of everything skipped or altered while building contexts, with example ids per reason."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, example: object) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < EXAMPLES_KEPT:
            ex.append(str(example))

    def merge(self, other: SkipReport) -> None:
        for reason, n in other.counts.items():
            self.counts[reason] = self.counts.get(reason, 0) + n
            ex = self.examples.setdefault(reason, [])
            ex.extend(other.examples.get(reason, [])[: EXAMPLES_KEPT - len(ex)])

    def lines(self) -> list[str]:
        """One human-readable line per reason: `reason: N (e.g. id, id, ...)`."""
        return [
            f"{reason}: {n} (e.g. {', '.join(self.examples.get(reason, []))})"
            for reason, n in sorted(self.counts.items())
        ]

    def to_dict(self) -> dict[str, Any]:
        return {r: {"count": n, "examples": self.examples.get(r, [])} for r, n in sorted(self.counts.items())}


# What each reason means, for reports and docs.
REASONS = {
    "image_no_captions": "image skipped: it has no usable caption",
    "image_bad_size": "image skipped: width or height missing, zero or negative",
    "caption_empty": "caption skipped: empty, whitespace-only or not a string",
    "caption_unknown_image": "caption skipped: its image_id is not in `images`",
    "box_unknown_image": "box skipped: its image_id is not in `images`",
    "box_unknown_category": "box skipped: its category_id is not in `categories`",
    "box_invalid": "box skipped: bbox is not four finite numbers",
    "box_degenerate": "box skipped: width or height is zero or negative",
    "box_outside_image": "box skipped: it lies entirely outside the image",
    "box_clamped": "box kept but clamped: it reached outside the image",
    "box_crowd_skipped": "box skipped: crowd region and --skip-crowd given",
}


def _quiet_index(data: dict[str, Any], path: Path) -> Any:
    """pycocotools' index over an already-parsed dataset, with its prints swallowed."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = data
        try:
            coco.createIndex()
        except (KeyError, TypeError) as e:
            raise InputError(
                f"{path}: an entry lacks a required field or has the wrong type ({type(e).__name__}: {e})",
                hint="every annotation needs id, image_id (and category_id in instances files)",
            ) from None
    return coco


def load_annotation_file(path: str | Path, required: Iterable[str]) -> Any:
    """Parse one COCO json file, check it has the `required` top-level lists, return its COCO index."""
    p = Path(path)
    data = read_json(p)
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a COCO JSON object, got {type(data).__name__}")
    for key in required:
        if not isinstance(data.get(key), list):
            what = "missing" if key not in data else "not a list"
            raise InputError(
                f"{p}: '{key}' is {what}",
                hint="is this a COCO captions_*.json / instances_*.json file?",
            )
    return _quiet_index(data, p)


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def read_images(coco: Any, path: Path, report: SkipReport) -> dict[int, dict[str, Any]]:
    """Validated `{image_id: {id, image_id, image, width, height}}` in file order.

    Images with a missing or non-positive size are kept with `width`/`height` None so that a later
    step (reading the image header under --images) can fill them; `assemble` skips the rest.
    """
    images: dict[int, dict[str, Any]] = {}
    for i, img in enumerate(coco.dataset["images"]):
        if not isinstance(img, dict) or "id" not in img:
            raise InputError(f"{path}: images[{i}] has no 'id'")
        iid = img["id"]
        if isinstance(iid, bool) or not isinstance(iid, int):
            if isinstance(iid, str) and iid.isdigit():
                iid = int(iid)
            else:
                raise InputError(f"{path}: images[{i}] id {iid!r} is not an integer")
        if iid in images:
            raise InputError(
                f"{path}: image id {iid} appears twice in 'images'", hint="image ids must be unique"
            )
        name = img.get("file_name")
        w, h = img.get("width"), img.get("height")
        images[iid] = {
            "id": coco_id(iid),
            "image_id": iid,
            "image": name if isinstance(name, str) and name else f"{coco_id(iid)}.jpg",
            "width": w if _positive(w) else None,
            "height": h if _positive(h) else None,
        }
    return images


def normalise_caption(text: Any) -> str:
    """One caption = one line: strip, and collapse inner runs of whitespace (tabs, newlines) to a space."""
    return " ".join(text.split()) if isinstance(text, str) else ""


def read_captions(coco: Any, images: dict[int, Any], report: SkipReport) -> dict[int, list[str]]:
    """`{image_id: [caption, ...]}` in file order, empty and orphan captions skipped and counted."""
    out: dict[int, list[str]] = {}
    for ann in coco.dataset["annotations"]:
        iid = ann.get("image_id")
        if iid not in images:
            report.add("caption_unknown_image", ann.get("id", iid))
            continue
        text = normalise_caption(ann.get("caption"))
        if not text:
            report.add("caption_empty", ann.get("id", iid))
            continue
        out.setdefault(iid, []).append(text)
    return out


def normalise_xywh(bbox: Any, width: float, height: float) -> tuple[list[float] | None, str | None]:
    """Pixel `[x, y, w, h]` → normalised corners `[x1, y1, x2, y2]`, clamped to [0, 1], 3 decimals.

    Returns `(bbox, None)`, `(bbox, "box_clamped")`, or `(None, reason)` for a skipped box.
    """
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return None, "box_invalid"
    for v in bbox:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None, "box_invalid"
    x, y, w, h = bbox
    if w <= 0 or h <= 0:
        return None, "box_degenerate"
    corners = (x / width, y / height, (x + w) / width, (y + h) / height)
    clamped = [min(1.0, max(0.0, c)) for c in corners]
    if clamped[0] >= clamped[2] or clamped[1] >= clamped[3]:
        return None, "box_outside_image"
    note = "box_clamped" if any(a != b for a, b in zip(clamped, corners, strict=True)) else None
    return [round(c, 3) for c in clamped], note


def read_boxes(
    coco: Any,
    images: dict[int, dict[str, Any]],
    report: SkipReport,
    *,
    skip_crowd: bool = False,
    source: str | None = None,
) -> dict[int, list[dict[str, Any]]]:
    """`{image_id: [{"category", "bbox"[, "crowd"]}, ...]}` from an instances index, in file order.

    Deletes each annotation's `segmentation` as it goes: contexts never need it and it is most of
    the memory a parsed instances file takes.
    """
    cats = {cid: c.get("name", str(cid)) for cid, c in coco.cats.items()}
    out: dict[int, list[dict[str, Any]]] = {}
    for ann in coco.dataset["annotations"]:
        ann.pop("segmentation", None)
        iid = ann.get("image_id")
        img = images.get(iid)
        aid = ann.get("id", iid)
        if img is None:
            report.add("box_unknown_image", aid)
            continue
        name = cats.get(ann.get("category_id"))
        if name is None:
            report.add("box_unknown_category", aid)
            continue
        crowd = bool(ann.get("iscrowd"))
        if crowd and skip_crowd:
            report.add("box_crowd_skipped", aid)
            continue
        if img["width"] is None or img["height"] is None:
            continue  # the image itself is skipped (and counted) for having no size
        bbox, note = normalise_xywh(ann.get("bbox"), img["width"], img["height"])
        if bbox is None:
            report.add(note or "box_invalid", aid)
            continue
        if note:
            report.add(note, aid)
        box: dict[str, Any] = {"category": name, "bbox": bbox}
        if crowd:
            box["crowd"] = True
        if source:
            box["source"] = source
        out.setdefault(iid, []).append(box)
    return out


def assemble(
    images: dict[int, dict[str, Any]],
    captions: dict[int, list[str]],
    boxes: dict[int, list[dict[str, Any]]],
    report: SkipReport,
    caption_sources: dict[int, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Context records in image order; images without a size or without captions are skipped, counted."""
    records: list[dict[str, Any]] = []
    for iid, img in images.items():
        if img["width"] is None or img["height"] is None:
            report.add("image_bad_size", iid)
            continue
        caps = captions.get(iid)
        if not caps:
            report.add("image_no_captions", iid)
            continue
        rec = {
            "id": img["id"],
            "image_id": iid,
            "image": img["image"],
            "width": img["width"],
            "height": img["height"],
            "captions": caps,
        }
        if caption_sources is not None:
            rec["caption_sources"] = caption_sources.get(iid, [])
        rec["boxes"] = boxes.get(iid, [])
        records.append(rec)
    return records


def build_coco_contexts(
    captions_path: str | Path, instances_path: str | Path | None = None, *, skip_crowd: bool = False
) -> tuple[list[dict[str, Any]], SkipReport]:
    """Context records for every captioned image of a COCO captions file (+ optional instances file)."""
    report = SkipReport()
    cap_path = Path(captions_path)
    coco = load_annotation_file(cap_path, ("images", "annotations"))
    images = read_images(coco, cap_path, report)
    captions = read_captions(coco, images, report)
    del coco  # free the parsed captions file before parsing the (much larger) instances file
    boxes: dict[int, list[dict[str, Any]]] = {}
    if instances_path is not None:
        inst = load_annotation_file(instances_path, ("annotations", "categories"))
        boxes = read_boxes(inst, images, report, skip_crowd=skip_crowd)
        del inst
    return assemble(images, captions, boxes, report), report


def coco_split_paths(coco_dir: str | Path, split: str) -> tuple[Path, Path]:
    """`DIR/annotations/captions_SPLIT.json` and `instances_SPLIT.json`, checked to exist."""
    root = Path(coco_dir)
    if not root.is_dir():
        raise InputError(
            f"{root}: no such folder", hint="--coco takes the COCO root folder (with annotations/)"
        )
    ann = root / "annotations"
    caps, inst = ann / f"captions_{split}.json", ann / f"instances_{split}.json"
    for p in (caps, inst):
        if not p.exists():
            found = sorted(x.name for x in ann.glob("*.json")) if ann.is_dir() else []
            raise InputError(
                f"{p}: no such file",
                hint=f"files in {ann}: {', '.join(found) or 'none'}; check --split",
            )
    return caps, inst
