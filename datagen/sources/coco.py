"""COCO annotation files → context records (the first step of the LLaVA flow).

We parse each file once (through `jsonio.read_json`: orjson when installed, one-line errors naming
the file), check its shape, and hand it to pycocotools' own `COCO.createIndex` (`CocoIndex`), whose
per-image grouping and category table we then read in one pass, with the cyclic GC paused (see
`gc_paused`). That is the work `COCO(path)` does, minus its `json.load` and the segmentations.

To stay under pycocotools' own peak memory we never keep what contexts do not need: captions are
copied into the `ContextSet` and their parsed file dropped before the instances file is parsed, and
each instance's `segmentation` (most of the file's weight) is cut out of the raw bytes before the
parse (`drop_segmentations`), so its millions of floats are never built.

Bad annotations are not fatal one by one: each is skipped (or, for boxes poking outside the image,
clamped) and counted in a `SkipReport` with the first few offending ids. Structural problems
(missing file, not JSON, no `images`, duplicate image ids) raise `InputError`.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import gc_paused, read_json
from datagen.errors import InputError
from datagen.records import coco_id
from datagen.sources.contextset import ContextSet, SkipReport

COCO_SOURCE = "coco"  # the `source` of captions and boxes from COCO's human annotations


class CocoIndex:
    """A parsed COCO file indexed by pycocotools' own `createIndex` (the grouping every COCO tool
    shares): annotations by image id in file order (`by_image`, its `imgToAnns`) and categories by
    id (`cats`). pycocotools' loading chatter is kept off stdout."""

    __slots__ = ("by_image", "cats", "dataset")

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        from pycocotools.coco import COCO  # numpy with it: only commands that read COCO pay for it

        self.dataset = data
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
        self.by_image: dict[Any, list[dict[str, Any]]] = coco.imgToAnns
        self.cats: dict[Any, dict[str, Any]] = coco.cats


# An annotation's segmentation: polygons (lists of numbers only), an empty list, or an RLE object
# (`size` and `counts`, no nested objects). JSON strings cannot hold an unescaped `"`, so the key
# cannot match inside a caption.
_SEGMENTATION = re.compile(
    rb'"segmentation"\s*:\s*(?:\[\s*\[[^\]]*\](?:\s*,\s*\[[^\]]*\])*\s*\]|\[\s*\]|\{[^{}]*\})'
)


def drop_segmentations(data: bytes) -> bytes:
    """The file's bytes with every segmentation replaced by null, before parsing: contexts never
    read them, and in an instances file they are most of the bytes, the parse time and the memory."""
    return _SEGMENTATION.sub(b'"segmentation":null', data)


def load_annotation_file(path: str | Path, required: Iterable[str]) -> Any:
    """Parse one COCO json file, check it has the `required` top-level lists, return its COCO index."""
    p = Path(path)
    data = read_json(p, shrink=drop_segmentations if "categories" in required else None)
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a COCO JSON object, got {type(data).__name__}")
    for key in required:
        if not isinstance(data.get(key), list):
            what = "missing" if key not in data else "not a list"
            raise InputError(
                f"{p}: '{key}' is {what}",
                hint="is this a COCO captions_*.json / instances_*.json file?",
            )
    return CocoIndex(data, p)


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def read_images(coco: Any, path: Path, cset: ContextSet) -> None:
    """Add the file's `images` to `cset` as `{id, image_id, image, width, height}`, in file order.

    Images with a missing or non-positive size are kept with `width`/`height` None so that a later
    step (reading the image header under --images) can fill them; `ContextSet.records` skips the rest.
    """
    images = cset.images
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


def normalise_caption(text: Any) -> str:
    """One caption = one line: strip, and collapse inner runs of whitespace (tabs, newlines) to a space."""
    return " ".join(text.split()) if isinstance(text, str) else ""


def _orphans(coco: Any, images: dict[Hashable, Any], reason: str, report: SkipReport) -> None:
    """Count annotations whose image_id is not in `images` (the index groups them for us)."""
    for iid, anns in coco.by_image.items():  # file order, so the examples are the first ones
        if iid in images:
            continue
        for ann in anns:
            report.add(reason, ann.get("id", iid))


def read_captions(coco: Any, cset: ContextSet) -> None:
    """Add each image's captions in file order; empty and orphan captions are skipped and counted."""
    by_image, report = coco.by_image, cset.report
    for iid in cset.images:
        caps = []
        for ann in by_image.get(iid, ()):
            text = normalise_caption(ann.get("caption"))
            if text:
                caps.append(text)
            else:
                report.add("caption_empty", ann.get("id", iid))
        cset.add_captions(iid, caps, COCO_SOURCE)
    _orphans(coco, cset.images, "caption_unknown_image", report)


def normalise_xywh(bbox: Any, width: float, height: float) -> tuple[list[float] | None, str | None]:
    """Pixel `[x, y, w, h]` → normalised corners `[x1, y1, x2, y2]`, clamped to [0, 1], 3 decimals.

    Returns `(bbox, None)`, `(bbox, "box_clamped")`, or `(None, reason)` for a skipped box.
    Written for speed (it runs once per instance, ~860K times on train2017): one arithmetic
    pass, with the type and finiteness checks folded into a sum that raises or is NaN/inf.
    """
    try:
        x, y, w, h = bbox
        if not math.isfinite(x + y + w + h):  # TypeError for strings, NaN/inf otherwise
            return None, "box_invalid"
    except (TypeError, ValueError):
        return None, "box_invalid"
    if not (w > 0 and h > 0):
        return None, "box_degenerate"
    x1, y1, x2, y2 = x / width, y / height, (x + w) / width, (y + h) / height
    if x1 >= 0 and y1 >= 0 and x2 <= 1 and y2 <= 1:
        return [round(x1, 3), round(y1, 3), round(x2, 3), round(y2, 3)], None
    x1, y1 = max(0.0, x1), max(0.0, y1)
    x2, y2 = min(1.0, x2), min(1.0, y2)
    if x1 >= x2 or y1 >= y2:
        return None, "box_outside_image"
    return [round(x1, 3), round(y1, 3), round(x2, 3), round(y2, 3)], "box_clamped"


def read_boxes(coco: Any, cset: ContextSet, *, skip_crowd: bool = False) -> None:
    """Add `{"category", "bbox", "source"[, "crowd"]}` boxes from an instances index, in file order.

    Deletes each annotation's `segmentation` as it goes: contexts never need it and it is most of
    the memory a parsed instances file takes.
    """
    cats = {cid: c.get("name", str(cid)) for cid, c in coco.cats.items()}
    cset.categories.update(cats)
    by_image, images, report = coco.by_image, cset.images, cset.report
    for iid, img in images.items():
        anns = by_image.get(iid)
        if not anns:
            continue
        width, height = img["width"], img["height"]
        boxes: list[dict[str, Any]] = []
        for ann in anns:
            ann.pop("segmentation", None)
            if width is None or height is None:
                continue  # the image itself is skipped (and counted) for having no size
            name = cats.get(ann.get("category_id"))
            if name is None:
                report.add("box_unknown_category", ann.get("id", iid))
                continue
            crowd = ann.get("iscrowd")
            if crowd and skip_crowd:
                report.add("box_crowd_skipped", ann.get("id", iid))
                continue
            # Fast path for the common, well-formed box; anything else (NaN, clamping, bad types:
            # comparisons with NaN are False) goes through the careful `normalise_xywh`.
            bbox = ann.get("bbox")
            try:
                x, y, w, h = bbox
                x1, y1, x2, y2 = x / width, y / height, (x + w) / width, (y + h) / height
                fast = w > 0 and h > 0 and x1 >= 0 and y1 >= 0 and x2 <= 1 and y2 <= 1
            except (TypeError, ValueError):
                fast = False
            if fast:
                norm = [round(x1, 3), round(y1, 3), round(x2, 3), round(y2, 3)]
            else:
                maybe, note = normalise_xywh(bbox, width, height)
                report.add(note or "box_invalid", ann.get("id", iid))
                if maybe is None:
                    continue
                norm = maybe
            box: dict[str, Any] = {"category": name, "bbox": norm, "source": COCO_SOURCE}
            if crowd:
                box["crowd"] = True
            boxes.append(box)
        cset.add_boxes(iid, boxes)
    _orphans(coco, images, "box_unknown_image", report)


def read_coco(
    cset: ContextSet,
    captions_path: str | Path | None,
    instances_path: str | Path | None = None,
    *,
    skip_crowd: bool = False,
    images_root: str | Path | None = None,
) -> None:
    """Add a COCO captions file's images and captions and an instances file's boxes to `cset`.

    Images come from the captions file, or from the instances file when there is none (captions
    then come from another source). Missing sizes are read from image headers under `images_root`.
    """
    with gc_paused():
        if captions_path is not None:
            cap_path = Path(captions_path)
            coco = load_annotation_file(cap_path, ("images", "annotations"))
            read_images(coco, cap_path, cset)
            cset.fill_sizes(images_root)
            read_captions(coco, cset)
            del coco  # free the parsed captions file before parsing the (much larger) instances file
        if instances_path is not None:
            inst_path = Path(instances_path)
            need = (
                ("annotations", "categories")
                if captions_path is not None
                else ("images", "annotations", "categories")
            )
            inst = load_annotation_file(inst_path, need)
            if captions_path is None:
                read_images(inst, inst_path, cset)
                cset.fill_sizes(images_root)
            read_boxes(inst, cset, skip_crowd=skip_crowd)
            del inst


def build_coco_contexts(
    captions_path: str | Path, instances_path: str | Path | None = None, *, skip_crowd: bool = False
) -> tuple[list[dict[str, Any]], SkipReport]:
    """Context records for every captioned image of a COCO captions file (+ optional instances file)."""
    cset = ContextSet()
    read_coco(cset, captions_path, instances_path, skip_crowd=skip_crowd)
    with gc_paused():
        return cset.records(), cset.report


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
