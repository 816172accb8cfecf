"""docs/cli.md is the `--help` of every command as it is now (regenerate: python -m datagen.cli --write-docs)."""

from __future__ import annotations

from support.paths import REPO

from datagen.cli import command
from datagen.commands import _clidoc


def test_docs_cli_md_is_current():
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert text == _clidoc.render(command()), "docs/cli.md is out of date: python -m datagen.cli --write-docs"


def test_every_command_is_in_it_and_the_readme_links_it():
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for path in _clidoc.command_paths(command()):
        assert f"\n## {' '.join(['datagen', *path])}\n" in text
    assert "Examples:" in text and "\x1b[" not in text
    assert "(docs/cli.md)" in (REPO / "README.md").read_text(encoding="utf-8")
