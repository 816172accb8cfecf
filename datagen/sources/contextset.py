"""The set of images being turned into context records, filled from one or more sources.

COCO annotation files, `--input` rows, a captioner's `--captions-file` and a detector's
`--detections` each add images, captions or boxes to one `ContextSet`; `records()` then emits one
context record per image that has a size and at least one caption. Every caption and box remembers
its source (`caption_sources` runs parallel to `captions`; each box has a `source` key): `coco` for
COCO's human annotations, otherwise the row's own `source` or the name of the file it came from.

Images are keyed by their integer id when they have one (COCO ids, or a file stem / id string made
of digits, so `000000229358.jpg`, `"229358"` and `229358` meet), else by their id string.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.errors import InputError

EXAMPLES_KEPT = 5

# What each skip/adjust reason means, for reports and docs.
REASONS = {
    "image_no_captions": "image skipped: it has no usable caption",
    "image_bad_size": "image skipped: width/height missing or not positive, and no readable image file under --images",
    "caption_empty": "caption skipped: empty, whitespace-only or not a string",
    "caption_unknown_image": "caption skipped: its image is not among the images",
    "box_unknown_image": "box skipped: its image_id is not among the images",
    "box_unknown_category": "box skipped: its category_id is not in the categories",
    "box_invalid": "box skipped: bbox is not four finite numbers",
    "box_degenerate": "box skipped: width or height is zero or negative",
    "box_outside_image": "box skipped: it lies entirely outside the image",
    "box_clamped": "box kept but clamped: it reached outside the image",
    "box_crowd_skipped": "box skipped: crowd region and --skip-crowd given",
    "detection_below_min_score": "detection dropped: score below --min-score",
    "detection_over_max_boxes": "detection dropped: beyond --max-boxes for its image",
}


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

    def lines(self) -> list[str]:
        """One human-readable line per reason: `reason: N (e.g. id, id, ...)`."""
        return [
            f"{reason}: {n} (e.g. {', '.join(self.examples.get(reason, []))})"
            for reason, n in sorted(self.counts.items())
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            r: {"count": n, "examples": self.examples.get(r, []), "meaning": REASONS.get(r, "")}
            for r, n in sorted(self.counts.items())
        }


def norm_key(value: Any) -> Hashable:
    """An image's lookup key: ints stay ints, digit strings become ints, other strings stay strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    s = str(value).strip()
    return int(s) if s.isdigit() else s


@dataclass
class ContextSet:
    images: dict[Hashable, dict[str, Any]] = field(default_factory=dict)
    captions: dict[Hashable, list[str]] = field(default_factory=dict)
    caption_sources: dict[Hashable, list[str]] = field(default_factory=dict)
    boxes: dict[Hashable, list[dict[str, Any]]] = field(default_factory=dict)
    report: SkipReport = field(default_factory=SkipReport)
    categories: dict[int, str] = field(default_factory=dict)  # from an instances file, for --detections
    _by_name: dict[str, Hashable] | None = None

    def add_image(self, key: Hashable, info: dict[str, Any], where: str) -> None:
        """Register an image (`id`, `image`, `width`, `height`[, `image_id`]); a repeated key is an error."""
        if key in self.images:
            raise InputError(f"{where}: image '{key}' appears twice", hint="image ids must be unique")
        self.images[key] = info
        if self._by_name is not None:
            self._by_name.setdefault(info["image"], key)

    def find(self, value: Any) -> Hashable | None:
        """The key of the known image that `value` names (an id, a file name or a file stem), or None."""
        key = norm_key(value)
        if key in self.images:
            return key
        if self._by_name is None:
            self._by_name = {}
            for k, info in self.images.items():
                self._by_name.setdefault(info["image"], k)
        name = str(value).strip()
        if name in self._by_name:
            return self._by_name[name]
        stem = norm_key(Path(name).stem)
        return stem if stem in self.images else None

    def add_captions(self, key: Hashable, texts: list[str], source: str | list[str]) -> None:
        if not texts:
            return
        self.captions.setdefault(key, []).extend(texts)
        srcs = source if isinstance(source, list) else [source] * len(texts)
        self.caption_sources.setdefault(key, []).extend(srcs)

    def add_boxes(self, key: Hashable, boxes: list[dict[str, Any]]) -> None:
        if boxes:
            self.boxes.setdefault(key, []).extend(boxes)

    def fill_sizes(self, images_root: str | Path | None) -> None:
        """Read width/height from image file headers under `images_root` where the data lacks them."""
        if images_root is None:
            return
        from datagen.common.image_sizes import read_size

        for info in self.images.values():
            if info["width"] is None or info["height"] is None:
                size = read_size(images_root, info["image"])
                if size is not None:
                    info["width"], info["height"] = size

    def records(self) -> list[dict[str, Any]]:
        """One context record per image with a size and a caption, in the order images were added."""
        out: list[dict[str, Any]] = []
        report = self.report
        for key, info in self.images.items():
            if info["width"] is None or info["height"] is None:
                report.add("image_bad_size", info["id"])
                continue
            caps = self.captions.get(key)
            if not caps:
                report.add("image_no_captions", info["id"])
                continue
            rec = dict(info)
            rec["captions"] = caps
            rec["caption_sources"] = self.caption_sources[key]
            rec["boxes"] = self.boxes.get(key, [])
            out.append(rec)
        return out
