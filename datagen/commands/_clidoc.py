"""docs/cli.md, generated from the `--help` of every command (so the reference cannot drift).

    python -m datagen.cli --write-docs     # rewrite docs/cli.md
    python -m datagen.cli --check-docs     # exit 1 if docs/cli.md is not current

(`cli.py` hands this module the command tree: commands sit below `cli` and do not import it.)

tests/cli/test_clidoc.py runs the check, so a changed option or example fails the suite until the
file is regenerated. The help is rendered at a fixed width without colours, so it is the same on
every machine.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path
from typing import Any

WIDTH = 100
DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

HEADER = """# The `datagen` command line

Every command's `--help`, as the tool prints it: options grouped by purpose, then examples.
This file is generated (`python -m datagen.cli --write-docs`); a test fails when it is
out of date. Old flag spellings that still work for one release, with a warning, are listed at
the end.
"""


def help_text(root: Any, path: list[str]) -> str:
    """`datagen PATH --help` as printed at WIDTH columns, without colours or trailing spaces."""
    import typer.rich_utils as rich_utils

    out = io.StringIO()
    saved = {k: os.environ.get(k) for k in ("COLUMNS", "NO_COLOR", "TERM")}
    os.environ.update(COLUMNS=str(WIDTH), NO_COLOR="1", TERM="dumb")
    # typer reads FORCE_COLOR / PY_COLORS / GITHUB_ACTIONS once, at import, into these two settings;
    # a forced terminal with TERM=dumb would make rich print at 80 columns whatever COLUMNS says.
    typer_settings = (rich_utils.FORCE_TERMINAL, rich_utils.MAX_WIDTH)
    rich_utils.FORCE_TERMINAL, rich_utils.MAX_WIDTH = False, WIDTH
    try:
        with contextlib.redirect_stdout(out):
            root.main(args=[*path, "--help"], prog_name="datagen", standalone_mode=False)
    finally:
        rich_utils.FORCE_TERMINAL, rich_utils.MAX_WIDTH = typer_settings
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    lines = [line.rstrip() for line in _ANSI.sub("", out.getvalue()).splitlines()]
    return "\n".join(lines).strip("\n") + "\n"


def command_paths(root: Any) -> list[list[str]]:
    """Every command and group, in the order `datagen --help` lists them."""
    found: list[list[str]] = [[]]

    def walk(cmd: object, path: list[str]) -> None:
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            found.append([*path, name])
            walk(sub, [*path, name])

    walk(root, [])
    return found


def render(root: Any) -> str:
    from datagen.commands._renames import RENAMES

    parts = [HEADER]
    for path in command_paths(root):
        title = " ".join(["datagen", *path])
        parts.append(f"## {title}\n\n```text\n{help_text(root, path)}```\n")
    rows = [f"| `{r.old}` | `{r.new}` | {', '.join(f'`{c}`' for c in r.commands)} |" for r in RENAMES]
    parts.append(
        "## Old spellings\n\n| old | new | commands |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    return "\n".join(parts)


def main(argv: list[str], root: Any) -> int:
    text = render(root)
    if "--write-docs" in argv:
        DOC.write_text(text, encoding="utf-8")
        return 0
    if DOC.exists() and DOC.read_text(encoding="utf-8") == text:
        return 0
    sys.stderr.write(f"{DOC} is out of date: run python -m datagen.cli --write-docs\n")
    return 1
