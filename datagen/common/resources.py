"""Where the bundled templates and sample data live, in a source checkout and in an installed wheel.

The wheel carries the top-level `templates/` and `data/` folders as `datagen/_templates` and
`datagen/_data` (see pyproject's force-include); a source checkout or editable install reads them
from the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parents[1]  # the `datagen` package folder


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def templates_root() -> Path:
    """Folder with one subfolder per task holding our default templates."""
    return _first_existing(_PKG / "_templates", _PKG.parent / "templates")


def data_root() -> Path:
    """Folder with the small bundled sample (COCO subset, CC3M lines) used by `datagen demo`."""
    return _first_existing(_PKG / "_data", _PKG.parent / "data")
