"""Old flag spellings, kept working for one release: each is rewritten to its new name before the
command line is parsed, with one `warning:` line on stderr saying what to type instead.

One table, `RENAMES`, holds every renamed flag and the commands it applies to, so `--help` shows
only the new names and the commands declare only them. A command path is matched by its leading
words ("export" covers every `export FORMAT`). Giving the old and the new spelling together is a
usage error (they would silently override each other).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from datagen.errors import UsageError


@dataclass(frozen=True)
class Rename:
    old: str
    new: str
    commands: tuple[str, ...]  # command paths ("generate", "export hf", "export" = every export format)


RENAMES: tuple[Rename, ...] = (
    Rename("--limit-per-task", "--limit", ("generate",)),
    Rename("--skip-missing", "--skip-missing-images", ("adapt", "export")),
    Rename("--skip-bad-images", "--skip-missing-images", ("adapt", "export")),
    Rename("--split", "--hf-split", ("export hf",)),
    Rename("--task", "--as-task", ("context",)),  # --task filters samples everywhere else
)

GROUPS = ("export", "cc3m", "eval", "templates")  # commands whose first argument is a subcommand
_ROOT_FLAGS = ("--debug", "--version", "--help")


def command_path(argv: list[str]) -> str:
    """`datagen [root flags] CMD [SUB] ...` → "CMD SUB" (or "CMD"), "" when there is none."""
    words = [a for a in argv if not a.startswith("-")][:2]
    if not words:
        return ""
    return " ".join(words) if words[0] in GROUPS and len(words) > 1 else words[0]


def _applies(rename: Rename, path: str) -> bool:
    return any(path == c or path.startswith(c + " ") for c in rename.commands)


def modernize(argv: list[str], warn: Callable[[str], None]) -> list[str]:
    """`argv` with every old spelling that applies to its command replaced by the new one."""
    path = command_path(argv)
    renames = {r.old: r for r in RENAMES if _applies(r, path)}
    if not renames:
        return list(argv)
    out: list[str] = []
    seen_new: set[str] = set()
    used_old: dict[str, Rename] = {}
    for i, arg in enumerate(argv):
        if arg == "--":
            out += argv[i:]
            break
        name, eq, value = arg.partition("=")
        r = renames.get(name)
        if r is None:
            seen_new.add(name)
            out.append(arg)
            continue
        used_old[r.old] = r
        out.append(r.new + eq + value)
    for r in used_old.values():
        if r.new in seen_new:
            raise UsageError(f"{r.old} is the old spelling of {r.new}; give one of them", hint=f"use {r.new}")
        warn(f"warning: {r.old} is deprecated; use {r.new} (the old spelling goes away in the next release)")
    return out
