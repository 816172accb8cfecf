"""Resolve image paths from data files under a user-given image root, refusing any that escape it.

Image names come from data files we did not write (runs, LLaVA JSON, description files). A name like
`../../etc/passwd`, an absolute path, or a symlink inside ROOT pointing outside it must never be
followed when we copy, link, embed or display images.
"""

from __future__ import annotations

import os
from pathlib import Path

from datagen.errors import InputError


class PathEscapeError(InputError):
    """An image path resolves outside the image root."""


def resolve_under(root: str | Path, name: str) -> Path:
    """Return the real path of `name` inside `root`, or raise `PathEscapeError`.

    The result may not exist (callers report missing files separately); escaping is judged on the
    fully resolved path, so symlinks (even dangling ones) that point outside `root` are refused.
    """
    root_real = Path(os.path.realpath(root))
    if not name or name.startswith(("/", "\\")) or os.path.isabs(name) or (len(name) > 1 and name[1] == ":"):
        raise PathEscapeError(f"image path '{name}' is absolute; only paths relative to {root} are allowed")
    parts = Path(name).parts
    if ".." in parts:
        raise PathEscapeError(f"image path '{name}' contains '..'; it would escape {root}")
    resolved = Path(os.path.realpath(root_real / name))
    if resolved != root_real and root_real not in resolved.parents:
        raise PathEscapeError(f"image path '{name}' resolves to {resolved}, outside {root} (symlink?)")
    return resolved
