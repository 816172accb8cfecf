"""`--input FILE.jsonl`: context records from anywhere (our own `contexts.jsonl`, a captioner plus a
detector, a hand-made list), validated line by line.

Each line: `{"id", "image", "width", "height", "captions": [...], "boxes": [{"category", "bbox",
"score"?, "source"?}]}`. Boxes are read in the declared `--box-format`:

- `xyxy-norm` (default, what `datagen context` writes): corners as fractions of the image size;
- `xyxy-pixel`: corners in pixels;
- `xywh-pixel`: COCO's `[x, y, width, height]` in pixels.

Every box is converted to normalised corners clamped to [0, 1] and rounded to 3 decimals. A value
that cannot belong to the declared format (a pixel value > 1 under `xyxy-norm`, a right edge left of
the left edge) is an error naming the line and suggesting the format the numbers look like.
Rows without captions are skipped and counted, like COCO images without captions; so are rows
without width/height whose image file under `--images` cannot be read. Captions and boxes keep the
row's `caption_sources` / box `source` (our own `contexts.jsonl` round-trips unchanged), else the
row's `source`, else the input file's name.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_jsonl
from datagen.errors import InputError
from datagen.sources.coco import normalise_caption, normalise_xywh
from datagen.sources.contextset import ContextSet, norm_key

BOX_FORMATS = ("xyxy-norm", "xyxy-pixel", "xywh-pixel")
_NORM_SLACK = 1e-6  # tolerate float noise just above 1.0 in normalised input


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_bbox(bbox: Any, where: str) -> list[float]:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 or not all(_num(v) for v in bbox):
        raise InputError(f"{where}: bbox must be four finite numbers, got {bbox!r}")
    return [float(v) for v in bbox]


def convert_box(
    bbox: Any, box_format: str, width: float | None, height: float | None, where: str
) -> tuple[list[float], bool]:
    """One box in `box_format` → (normalised clamped rounded corners, was_clamped). Raises on bad input."""
    b = _check_bbox(bbox, where)
    if box_format == "xywh-pixel":
        if width is None or height is None:
            raise InputError(f"{where}: pixel boxes need the image's width and height")
        if b[2] <= 0 or b[3] <= 0:
            raise InputError(f"{where}: box {bbox} has zero or negative width/height")
        out, note = normalise_xywh(b, width, height)
        if out is None:
            raise InputError(f"{where}: box {bbox} lies entirely outside the {width}x{height} image")
        return out, note == "box_clamped"
    x1, y1, x2, y2 = b
    if x2 <= x1 or y2 <= y1:
        hint = (
            "if these are [x, y, width, height], use --box-format xywh-pixel" if x2 > 0 and y2 > 0 else None
        )
        raise InputError(f"{where}: box {bbox} has x2 <= x1 or y2 <= y1 (zero or negative size)", hint=hint)
    if box_format == "xyxy-norm":
        if max(b) > 1 + _NORM_SLACK or min(b) < -_NORM_SLACK:
            raise InputError(
                f"{where}: box {bbox} has values outside [0, 1] but --box-format is xyxy-norm",
                hint="these look like pixels: use --box-format xyxy-pixel (corners) or xywh-pixel ([x, y, w, h])",
            )
        corners = b
    else:  # xyxy-pixel
        if width is None or height is None:
            raise InputError(f"{where}: pixel boxes need the image's width and height")
        corners = [x1 / width, y1 / height, x2 / width, y2 / height]
    clamped = [min(1.0, max(0.0, c)) for c in corners]
    if clamped[0] >= clamped[2] or clamped[1] >= clamped[3]:
        raise InputError(f"{where}: box {bbox} lies entirely outside the image")
    moved = any(abs(a - c) > _NORM_SLACK for a, c in zip(clamped, corners, strict=True))
    return [round(c, 3) for c in clamped], moved and box_format != "xyxy-norm"


def _size(row: dict[str, Any], key: str, where: str) -> float | None:
    v = row.get(key)
    if v is None:
        return None
    if not _num(v) or v <= 0:
        raise InputError(f"{where}: '{key}' must be a positive number, got {v!r}")
    return v


def _sources(row: dict[str, Any], n: int, default: str, where: str) -> list[str]:
    given = row.get("caption_sources")
    if given is None:
        return [row.get("source") or default] * n
    if not isinstance(given, list) or len(given) != n or not all(isinstance(x, str) for x in given):
        raise InputError(f"{where}: 'caption_sources' must be a list of strings, one per caption")
    return given


def add_row(
    cset: ContextSet, row: dict[str, Any], where: str, box_format: str, default_source: str, images_root: Any
) -> None:
    """Validate one input row and add its image, captions and boxes to `cset`."""
    report = cset.report
    image = row.get("image")
    if image is not None and (not isinstance(image, str) or not image):
        raise InputError(f"{where}: 'image' must be a non-empty string")
    rid = row.get("id")
    if rid is None:
        if image is None:
            raise InputError(f"{where}: row has neither 'id' nor 'image'")
        rid = Path(image).stem
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or str(rid) == "":
        raise InputError(f"{where}: 'id' must be a string or integer")
    rid = str(rid)
    image = image or f"{rid}.jpg"
    width, height = _size(row, "width", where), _size(row, "height", where)
    if (width is None or height is None) and images_root is not None:
        from datagen.common.image_sizes import read_size

        width, height = read_size(images_root, image) or (width, height)
    caps_in = row.get("captions", [])
    if not isinstance(caps_in, list):
        raise InputError(f"{where}: 'captions' must be a list of strings")
    srcs_in = _sources(row, len(caps_in), default_source, where)
    captions, sources = [], []
    for i, c in enumerate(caps_in):
        text = normalise_caption(c)
        if not text:
            report.add("caption_empty", f"{rid}[{i}]")
            continue
        captions.append(text)
        sources.append(srcs_in[i])
    boxes_in = row.get("boxes", [])
    if not isinstance(boxes_in, list):
        raise InputError(f"{where}: 'boxes' must be a list")
    if boxes_in and box_format != "xyxy-norm" and (width is None or height is None):
        report.add("image_bad_size", rid)  # pixel boxes cannot be normalised without the size
        return
    boxes = []
    for j, b in enumerate(boxes_in):
        bw = f"{where}: boxes[{j}]"
        if not isinstance(b, dict) or not isinstance(b.get("category"), str) or not b["category"].strip():
            raise InputError(f"{bw}: needs a non-empty 'category' string and a 'bbox'")
        bbox, clamped = convert_box(b.get("bbox"), box_format, width, height, bw)
        if clamped:
            report.add("box_clamped", f"{rid}[{j}]")
        box: dict[str, Any] = {"category": " ".join(b["category"].split()), "bbox": bbox}
        if "score" in b:
            if not _num(b["score"]) or not 0 <= b["score"] <= 1:
                raise InputError(f"{bw}: score {b['score']!r} is not a number in [0, 1]")
            box["score"] = b["score"]
        box["source"] = b.get("source") or row.get("source") or default_source
        if b.get("crowd"):
            box["crowd"] = True
        boxes.append(box)
    image_id = row.get("image_id")
    info: dict[str, Any] = {"id": rid}
    if isinstance(image_id, int) and not isinstance(image_id, bool):
        info["image_id"] = image_id
    info.update(image=image, width=width, height=height)
    key = norm_key(info.get("image_id", rid))
    cset.add_image(key, info, where)
    cset.add_captions(key, captions, sources)
    cset.add_boxes(key, boxes)


def read_context_input(
    cset: ContextSet, path: str | Path, *, box_format: str = "xyxy-norm", images_root: Any = None
) -> None:
    """Add every row of a context JSONL file to `cset` (duplicate ids are an error naming the line)."""
    default_source = Path(path).name
    for line, row in iter_jsonl(path):
        add_row(cset, row, f"{path}:{line}", box_format, default_source, images_root)
