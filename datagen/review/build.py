"""Review: put the steps together and write the page atomically (a failed run leaves no half page)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_text_atomic
from datagen.errors import InputError
from datagen.review.gather import Card, Summary, gather
from datagen.review.images import ImageRef, ImageResolver
from datagen.review.page import render_page


@dataclass
class ReviewResult:
    out: Path
    cards: list[Card]
    summary: Summary
    missing_images: list[str]
    bytes_written: int


def build_review(
    input_path: str | Path,
    *,
    images: str | Path,
    out: str | Path,
    sample: int | None = None,
    seed: int = 0,
    embed: bool = False,
    include_failures: bool = False,
    contexts: list[Path] | tuple[Path, ...] = (),
    context_records: Iterable[dict[str, Any]] = (),
    judge: str | Path | None = None,
) -> ReviewResult:
    """Build the review page for `input_path` and write it to `out`."""
    out_path = Path(out)
    if out_path.is_dir():
        raise InputError(
            f"--out {out_path}: is a folder", hint="give the HTML file to write, e.g. review.html"
        )
    cards, summary = gather(
        input_path,
        sample=sample,
        seed=seed,
        include_failures=include_failures,
        contexts=contexts,
        context_records=context_records,
        judge=judge,
    )
    resolver = ImageResolver(images, out_path.resolve().parent, embed=embed)
    refs: list[ImageRef | None] = []
    for c in cards:
        where = f"{summary.source}: {c.kind} {c.key}"
        refs.append(resolver.ref(c.image, where) if c.image else None)
    missing = resolver.missing
    html = render_page(cards, refs, summary, missing_images=len(missing))
    try:
        size = write_text_atomic(out_path, html)
    except OSError as e:
        raise InputError(f"--out {out_path}: cannot write ({e.strerror or e})") from None
    return ReviewResult(out_path, cards, summary, missing, size)
