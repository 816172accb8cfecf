"""The foundation commands end to end: demo, context --show, templates list/show, the wheel's templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from support.cli import assert_one_line_error, run_cli
from support.contexthelpers import EXPECTED_229358
from support.jsonl import read_jsonl
from support.paths import REPO


def test_demo_on_bundled_sample(tmp_path, capsys):
    out = tmp_path / "demo"
    code, so, se = run_cli(["demo", "--out", str(out)], capsys)
    assert code == 0, se
    recs = read_jsonl(out / "contexts.jsonl")
    assert [r["id"] for r in recs] == ["000000165518", "000000229358", "000000126107"]
    reqs = read_jsonl(out / "run/requests.jsonl")
    by_task = [r["custom_id"].split(":")[0] for r in reqs]
    assert set(by_task) >= {"conversation", "detail_description", "complex_reasoning"}
    assert sum(t in ("conversation", "detail_description", "complex_reasoning") for t in by_task) == 9
    assert f"wrote {len(reqs)} requests" in so and "Next:" in so and "--base-url" in so
    detail = next(r for r in reqs if r["custom_id"] == "detail_description:000000229358")
    assert detail["body"]["messages"][-1]["content"] == EXPECTED_229358


def test_context_show_prints_exact_task_text(coco_mini, capsys):
    base = ["context", "--coco", str(coco_mini), "--split", "val2017", "--show"]
    code, out, _ = run_cli([*base, "229358", "--as-task", "reasoning"], capsys)
    assert code == 0 and out == EXPECTED_229358 + "\n"
    # --task is the old spelling here (it filters samples in every other command)
    code, out, err = run_cli([*base, "000000229358.jpg", "--task", "conversation"], capsys)
    assert code == 0 and out == EXPECTED_229358.split("\n\n")[0] + "\n"
    assert "warning: --task is deprecated; use --as-task" in err
    code, _, err = run_cli([*base, "4"], capsys)
    assert_one_line_error(code, err, "no image with id '4'", "000000165518")
    code, _, err = run_cli([*base, "229358", "--as-task", "haiku"], capsys)
    assert_one_line_error(code, err, "unknown task 'haiku'")


def test_context_needs_out_or_show(coco_mini, capsys):
    code, _, err = run_cli(["context", "--coco", str(coco_mini), "--split", "val2017"], capsys)
    assert_one_line_error(code, err, "--out")


def test_templates_list_and_show(capsys):
    code, out, _ = run_cli(["templates", "list"], capsys)
    assert code == 0
    rows = [line.split("\t") for line in out.strip().splitlines()]
    by_name = {r[0]: r for r in rows}
    assert [r[0] for r in rows] == sorted(by_name)  # other tasks add their own folders
    assert {"complex_reasoning", "conversation", "detail_description"} <= set(by_name)
    assert by_name["conversation"][1:3] == ["2 examples", "context: captions"]
    assert by_name["detail_description"][1:3] == ["2 examples", "context: captions+boxes"]
    code, out, _ = run_cli(["templates", "show", "detail"], capsys)
    assert code == 0
    assert out.startswith("# detail_description (")
    assert "## example 1: assistant\n" in out and "## system\nYou are an AI visual assistant" in out


def test_debug_flag_shows_traceback(tmp_path):
    args = [sys.executable, "-m", "datagen", "context", "--captions", str(tmp_path / "x.json"), "--out", "o"]
    r = subprocess.run(args, capture_output=True, text=True, check=False)
    assert r.returncode == 2 and r.stderr.startswith("Error: ") and "Traceback" not in r.stderr
    r = subprocess.run(
        [args[0], "-m", "datagen", "--debug", *args[3:]], capture_output=True, text=True, check=False
    )
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_wheel_ships_templates_and_sample(tmp_path):
    """A pip-installed datagen must find its templates: build the wheel (offline, with hatchling)."""
    hatchling_build = pytest.importorskip("hatchling.build", reason="hatchling (dev extra) not installed")
    import os

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        name = hatchling_build.build_wheel(str(tmp_path))
    finally:
        os.chdir(cwd)
    names = set(zipfile.ZipFile(tmp_path / name).namelist())
    for task in ("conversation", "detail_description", "complex_reasoning"):
        for f in (
            "system_message.txt",
            "000_caps.txt",
            "000_conv.txt",
            "001_caps.txt",
            "001_conv.txt",
            "task.toml",
        ):
            assert f"datagen/_templates/{task}/{f}" in names
    assert "datagen/_data/coco/annotations/captions_val2017.json" in names
    assert "datagen/_data/coco/val2017/000000229358.jpg" in names
    # the installed layout resolves: unpack and load templates from the unpacked package
    site = tmp_path / "site"
    zipfile.ZipFile(tmp_path / name).extractall(site)
    code = (
        "import datagen.common.resources as r, datagen.prompts.templates as t;"
        "print(r.templates_root()); print(t.load_template('conversation').hash)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    root, h = r.stdout.split()
    assert root == str(site / "datagen" / "_templates")
    from datagen.prompts.templates import load_template

    assert h == load_template("conversation").hash


def test_group_without_subcommand_prints_help_not_an_internal_error(capsys):
    code, out, err = run_cli(["templates"], capsys)
    assert code == 2
    assert "internal error" not in out + err
    assert "list" in out + err and "show" in out + err


def test_output_path_blocked_by_a_file_is_an_error_not_an_internal_error(tmp_path, coco_mini, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    # each used to print "Error: internal error NotADirectoryError ... report it" and exit 70
    code, _, err = run_cli(
        [
            "generate",
            "grounded_qa",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--out",
            str(blocker / "run"),
        ],
        capsys,
    )
    assert code == 1
    assert_one_line_error(code, err, f"Error: {blocker}/run", "Not a directory", "choose another --out")
    assert "internal error" not in err and not (blocker / "run").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["context", "--split", "val2017", "--out", "{blocked}/contexts.jsonl"],
        ["generate", "llava", "--split", "val2017", "--dry-run", "--out", "{blocked}/run"],
        ["context", "--split", "val2017", "--out", "{tmp}/c.jsonl", "--report", "{blocked}/r.json"],
    ],
)
def test_unwritable_out_is_one_line_error_not_internal(args, coco_mini, tmp_path, capsys):
    """An --out under a plain file (as unwritable as it gets, even for root) names the path."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    argv = [a.format(blocked=blocker, tmp=tmp_path) for a in args]
    argv[argv.index("--split") : argv.index("--split")] = ["--coco", str(coco_mini)]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, str(blocker), "choose another --out")
    assert "internal error" not in err and code == 1
    assert blocker.read_text() == "x"


def test_debug_traceback_is_redacted_like_the_error_line(tmp_path, capsys, monkeypatch):
    """--debug tracebacks go through the same `redact` as the `Error:` line (the key never shows)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SECRET-xyz123")
    monkeypatch.setenv("DATAGEN_DEBUG", "")  # --debug sets it in-process; restored after the test
    missing = tmp_path / "sk-SECRET-xyz123.jsonl"  # any message quoting the key will do
    code, out, err = run_cli(
        ["--debug", "context", "--input", str(missing), "--out", str(tmp_path / "c")], capsys
    )
    assert code == 2 and "Traceback" in err and "InputError" in err
    assert "sk-SECRET-xyz123" not in err + out and "***" in err


def test_demo_with_unreachable_server_still_runs_offline_steps(tmp_path, capsys, monkeypatch):
    """A set OPENAI_BASE_URL/OPENAI_API_KEY that cannot be used must not cost the user the exports."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    out = tmp_path / "demo"
    code, so, se = run_cli(["demo", "--out", str(out)], capsys)
    assert code == 0, se
    assert "live generation stopped" in so and "cannot connect" in so
    assert (out / "llava_instruct.json").exists() and (out / "hf_dataset").is_dir()
    assert "Next:" in so
