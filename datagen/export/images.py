"""Check the images a set of samples points at, before export or adaptation writes anything.

Every image name is resolved under the user's `--images ROOT` with `safepaths.resolve_under`: names
that escape ROOT (`..`, absolute paths, symlinks pointing out) are refused, names whose file is
absent are missing. Both are counted and reported together, so one run tells the user everything
that is wrong; `skip` drops those rows instead of failing (still reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.safepaths import PathEscapeError, resolve_under
from datagen.errors import InputError


@dataclass
class ImageCheck:
    """Outcome of checking image names: kept records with their resolved paths, and the refusals."""

    records: list[dict[str, Any]] = field(default_factory=list)
    paths: list[Path | None] = field(default_factory=list)  # parallel to `records`; None = no image
    missing: list[str] = field(default_factory=list)
    escaped: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return len(self.missing) + len(self.escaped)

    def summary(self, root: str | Path) -> str:
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing under {root} (e.g. {_examples(self.missing)})")
        if self.escaped:
            parts.append(f"{len(self.escaped)} refused as escaping {root} (e.g. {_examples(self.escaped)})")
        return "; ".join(parts)


def _examples(names: list[str], n: int = 3) -> str:
    return ", ".join(repr(x) for x in names[:n]) + (", ..." if len(names) > n else "")


def check_images(records: list[dict[str, Any]], root: str | Path, *, skip: bool) -> ImageCheck:
    """Resolve every record's `image` under `root`.

    Records without an `image` key (text-only samples) pass through with path None. Unless `skip`,
    any missing or escaping image raises one `InputError` with the counts and examples, so callers
    can fail before writing anything.
    """
    root_p = Path(root)
    if not root_p.is_dir():
        raise InputError(f"--images {root}: no such folder", hint="point --images at the image folder")
    out = ImageCheck()
    for rec in records:
        name = rec.get("image")
        if name is None:
            out.records.append(rec)
            out.paths.append(None)
            continue
        try:
            path = resolve_under(root_p, str(name))
        except PathEscapeError:
            out.escaped.append(str(name))
            continue
        if not path.is_file():
            out.missing.append(str(name))
            continue
        out.records.append(rec)
        out.paths.append(path)
    if out.dropped and not skip:
        total = len(records)
        raise InputError(
            f"{out.dropped} of {total} images cannot be used: {out.summary(root)}; nothing was written",
            hint="fix the paths, or pass --skip-missing-images to drop those rows",
        )
    return out
