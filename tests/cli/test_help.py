"""`--help` everywhere: examples that really parse, options grouped in panels, one default style,
every task listed, `-o`/`-q` short flags, old flag spellings kept with a deprecation line."""

from __future__ import annotations

import re
import shlex

import pytest
from support.cli import assert_one_line_error, run_cli

from datagen.cli import command
from datagen.commands import _help as H
from datagen.commands._renames import RENAMES, modernize
from datagen.tasks.registry import ALIASES, generate_choices

LEAVES = dict(H.leaf_commands(command()))


def _visible_options(cmd):
    return [p for p in cmd.params if p.param_type_name == "option" and not getattr(p, "hidden", False)]


def _flat(text: str) -> str:
    """Help output without the panel borders and line wrapping, for substring checks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_bare_datagen_lists_every_command_and_exits_0(capsys):
    code, out, err = run_cli([], capsys)
    assert code == 0 and err == ""
    flat = _flat(out)
    for name, sub in command().commands.items():
        assert f"{name} {_flat(sub.short_help)}" in flat  # the whole first sentence, never cut
        assert sub.short_help.endswith((".", ")")) and "..." not in sub.short_help


ALL = dict(H.all_commands(command()))


def _parse_example(line: str) -> None:
    """Parse an example with the real parser of the command it runs: unknown flags, bad values and
    missing required ones fail (nothing runs)."""
    words = shlex.split(line)
    assert words[0] == "datagen", line
    path = max((p for p in LEAVES if words[1 : 1 + len(p.split())] == p.split()), key=len, default=None)
    assert path is not None, line
    rest = words[1 + len(path.split()) :]
    if rest == ["--help"]:
        return
    LEAVES[path].make_context(path, rest)


@pytest.mark.parametrize("path", sorted(ALL))
def test_every_command_and_group_shows_2_to_4_examples_that_parse(path, capsys):
    examples = H.examples_for(path)
    assert 2 <= len(examples) <= 4, path
    code, out, _ = run_cli([*path.split(), "--help"], capsys)
    assert code == 0 and "Examples:" in out
    flat = _flat(out)
    for line in examples:
        assert _flat(line) in flat
        if path in LEAVES:
            assert shlex.split(line)[: 1 + len(path.split())] == ["datagen", *path.split()], line
        _parse_example(line)


@pytest.mark.parametrize(
    "path", sorted(p for p, c in LEAVES.items() if len(_visible_options(c)) >= H.GROUPED_AT)
)
def test_options_are_grouped_by_purpose(path, capsys):
    cmd = LEAVES[path]
    ungrouped = [H.long_name(p) for p in _visible_options(cmd) if not getattr(p, "rich_help_panel", None)]
    assert ungrouped == [], f"{path}: add these to commands/_help.py PANELS: {ungrouped}"
    code, out, _ = run_cli([*path.split(), "--help"], capsys)
    panels = {getattr(p, "rich_help_panel", None) for p in _visible_options(cmd)}
    assert code == 0 and all(f"─ {name} ─" in out for name in panels)


def test_one_default_style():
    """Defaults show as typer's `[default: ...]` only, never written into the help text."""
    pattern = re.compile(r"\(default\b|default:|\[default|\(\d+(\.\d+)?\)", re.IGNORECASE)
    for path, cmd in LEAVES.items():
        for p in cmd.params:
            assert not pattern.search(getattr(p, "help", "") or ""), (path, p.name, p.help)


def test_generate_help_lists_every_task_and_alias(capsys):
    code, out, _ = run_cli(["generate", "--help"], capsys)
    flat = _flat(out)
    assert code == 0
    for name in generate_choices():
        assert name in flat
    assert "llava" in generate_choices() and "grounded_qa" in generate_choices()
    assert "judge" not in generate_choices()  # `datagen judge` runs it
    for alias, target in ALIASES.items():
        assert f"{alias} = {target}" in flat


def test_unknown_task_lists_every_valid_one(tmp_path, capsys):
    code, _, err = run_cli(["generate", "haiku", "-o", str(tmp_path / "r"), "--dry-run"], capsys)
    assert_one_line_error(
        code, err, "unknown task 'haiku'", *generate_choices(), "detail = detail_description"
    )


def test_short_flags_for_out_and_quiet_on_every_command():
    for path, cmd in LEAVES.items():
        for p in _visible_options(cmd):
            if "--out" in p.opts:
                assert "-o" in p.opts, path
            if "--quiet" in p.opts:
                assert "-q" in p.opts, path


@pytest.mark.parametrize("rename", RENAMES, ids=lambda r: r.old)
def test_old_spellings_map_to_an_option_of_every_command_they_apply_to(rename):
    paths = [p for p in LEAVES if any(p == c or p.startswith(c + " ") for c in rename.commands)]
    # every command a rename covers takes the new name (export llava never took either spelling)
    paths = [p for p in paths if any(rename.new in o.opts for o in LEAVES[p].params) or p != "export llava"]
    assert paths
    for path in paths:
        assert any(rename.new in p.opts for p in LEAVES[path].params), (path, rename.new)
        assert not any(rename.old in p.opts for p in LEAVES[path].params), (path, rename.old)
        warned: list[str] = []
        argv = modernize([*path.split(), "IN", f"{rename.old}=1"], warned.append)
        assert argv == [*path.split(), "IN", f"{rename.new}=1"]
        assert warned == [
            f"warning: {rename.old} is deprecated; use {rename.new} (the old spelling goes away in the next release)"
        ]


def test_old_spelling_only_applies_to_its_commands():
    warned: list[str] = []
    argv = ["generate", "llava", "--coco", "d", "--split", "val2017", "-o", "r"]
    assert modernize(argv, warned.append) == argv and warned == []  # --split is the COCO split here


def test_old_skip_flags_still_work_end_to_end(tmp_path, coco_mini, capsys):
    from support.export_fixtures import coco_run

    run = coco_run(coco_mini, tmp_path / "run")
    for old in ("--skip-missing", "--skip-bad-images"):
        out = tmp_path / f"trl{old}"
        code, _, err = run_cli(
            ["adapt", "trl", str(run), "-o", str(out), "--images", str(coco_mini / "val2017"), old], capsys
        )
        assert code == 0, err
        assert f"warning: {old} is deprecated; use --skip-missing-images" in err
