"""`datagen generate ... --dry-run`: the Batch API request file, token and cost estimates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli, run_process
from support.contexthelpers import EXPECTED_229358, make_llava_layout
from support.jsonl import read_jsonl

from datagen.llm.pricing import price_for
from datagen.llm.tokens import FALLBACK, counter_for


def read_requests(run: Path) -> list[dict]:
    return read_jsonl(run / "requests.jsonl")


def test_dry_run_writes_batch_lines(tmp_path, coco_mini, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(
        [
            "generate",
            "detail",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--out",
            str(run),
            "--dry-run",
            "--model",
            "gpt-4o",
            "--temperature",
            "0.2",
        ],
        capsys,
    )
    assert code == 0, err
    lines = read_requests(run)
    assert [x["custom_id"] for x in lines] == [
        "detail_description:000000165518",
        "detail_description:000000229358",
        "detail_description:000000126107",
    ]
    for x in lines:
        assert set(x) == {"custom_id", "method", "url", "body"}
        assert x["method"] == "POST" and x["url"] == "/v1/chat/completions"
        assert set(x["body"]) == {"model", "messages", "max_tokens", "temperature", "seed"}
        assert x["body"]["model"] == "gpt-4o" and x["body"]["temperature"] == 0.2
        assert x["body"]["seed"] == 0  # --seed's default, sent just as a live or --batch run sends it
        assert x["body"]["max_tokens"] == 600  # detail_description's task.toml default
    msgs = lines[1]["body"]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert msgs[-1]["content"] == EXPECTED_229358
    assert "wrote 3 requests (detail_description 3)" in out
    assert "prompt tokens:" in out and "tiktoken o200k_base" in out
    assert "cost: prompts $" in out and "$2.5/$10.0 (table)" in out


def test_llava_group_limit_and_overrides(tmp_path, coco_mini, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(
        [
            "generate",
            "llava",
            "--captions",
            str(coco_mini / "annotations/captions_train2017.json"),
            "--instances",
            str(coco_mini / "annotations/instances_train2017.json"),
            "--out",
            str(run),
            "--dry-run",
            "--limit",
            "4",
            "--max-tokens",
            "77",
            "--model",
            "my-local-model",
        ],
        capsys,
    )
    assert code == 0, err
    lines = read_requests(run)
    assert len(lines) == 12 and len({x["custom_id"] for x in lines}) == 12
    assert [x["custom_id"].split(":")[0] for x in lines] == ["conversation"] * 4 + [
        "detail_description"
    ] * 4 + ["complex_reasoning"] * 4
    assert all(x["body"]["max_tokens"] == 77 for x in lines)
    conv_ctx = lines[0]["body"]["messages"][-1]["content"]
    assert "\n\n" not in conv_ctx  # conversation: captions only
    assert "cost: unknown price" in out


def test_llava_layout_prompts_used_unchanged(tmp_path, coco_mini, capsys):
    prompts = make_llava_layout(tmp_path / "prompts")
    run = tmp_path / "run"
    code, _, err = run_cli(
        [
            "generate",
            "reasoning",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--out",
            str(run),
            "--dry-run",
            "--templates-dir",
            str(prompts),
            "--limit",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    (line,) = read_requests(run)
    msgs = line["body"]["messages"]
    assert msgs[0]["content"] == (prompts / "complex_reasoning/system_message.txt").read_text()
    assert msgs[1]["content"] == (prompts / "complex_reasoning/000_caps.txt").read_text()
    assert msgs[4]["content"] == (prompts / "complex_reasoning/001_conv.txt").read_text()


def test_input_contexts_roundtrip(tmp_path, coco_mini, capsys):
    ctx = tmp_path / "contexts.jsonl"
    code, _, err = run_cli(
        ["context", "--coco", str(coco_mini), "--split", "val2017", "--out", str(ctx)], capsys
    )
    assert code == 0, err
    run_a, run_b = tmp_path / "a", tmp_path / "b"
    run_cli(["generate", "llava", "--input", str(ctx), "--out", str(run_a), "--dry-run"], capsys)
    run_cli(
        [
            "generate",
            "llava",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--out",
            str(run_b),
            "--dry-run",
        ],
        capsys,
    )
    assert read_requests(run_a) == read_requests(run_b)


def test_live_run_against_openai_without_key_is_refused_cleanly(tmp_path, coco_mini, capsys, monkeypatch):
    # (the engine now sends live requests; against OpenAI without a key it must stop before sending)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code, _, err = run_cli(
        [
            "generate",
            "conversation",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--out",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert code == 3 and err.startswith("Error: ") and "OPENAI_API_KEY" in err and "--dry-run" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["generate", "poetry", "--input", "x.jsonl", "--dry-run"], "unknown task 'poetry'"),
        (["generate", "detail", "--dry-run"], "no source of images given"),
        (["generate", "detail", "--coco", "data/coco", "--dry-run"], "--coco needs --split"),
        (
            ["generate", "detail", "--coco", "d", "--split", "s", "--captions", "c", "--dry-run"],
            "cannot be combined",
        ),
        (["generate", "detail", "--instances", "i.json", "--dry-run"], "--instances needs --captions"),
        (
            ["generate", "detail", "--input", "x.jsonl", "--box-format", "yolo", "--dry-run"],
            "unknown --box-format",
        ),
    ],
)
def test_bad_options(tmp_path, capsys, args, needle):
    code, _, err = run_cli([*args, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and err.startswith("Error: ") and needle in err, err
    assert not (tmp_path / "run").exists()


def test_out_is_a_file(tmp_path, coco_mini, capsys):
    f = tmp_path / "file"
    f.write_text("keep")
    code, _, err = run_cli(
        ["generate", "detail", "--coco", str(coco_mini), "--split", "val2017", "--out", str(f), "--dry-run"],
        capsys,
    )
    assert code == 2 and "is a file" in err and f.read_text() == "keep"


def test_token_counter_is_real_tiktoken_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))
    from datagen.llm import tokens

    tokens._encoder.cache_clear()
    c = counter_for("gpt-4o-mini")
    assert c.method == "tiktoken o200k_base"
    assert c.text("hello world") == 2
    assert c.messages([{"role": "user", "content": "hello world"}]) == 2 + 3 + 3
    assert counter_for("gpt-4").method == "tiktoken cl100k_base"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # caching disabled: tiktoken would need the network
    tokens._encoder.cache_clear()
    c = counter_for("gpt-4o-mini")
    assert c.method == FALLBACK and c.text("abcdefghi") == 3
    tokens._encoder.cache_clear()


def test_prices():
    assert price_for("gpt-4o-mini-2024-07-18").input_per_million == 0.15
    assert price_for("gpt-4o").output_per_million == 10.0
    assert price_for("openai/gpt-4.1-mini").input_per_million == 0.40
    assert price_for("llama-3-70b") is None
    p = price_for("llama-3-70b", price_in=0.5, price_out=1.0)
    assert p.source == "user" and p.cost(2_000_000, 1_000_000) == pytest.approx(2.0)
    assert p.cost(2_000_000, 1_000_000, batch=True) == pytest.approx(1.0)


def test_python_m_datagen_subprocess(tmp_path, coco_mini):
    r = run_process(
        "generate",
        "conversation",
        "--coco",
        coco_mini,
        "--split",
        "val2017",
        "--out",
        tmp_path / "run",
        "--dry-run",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("wrote 3 requests (conversation 3)")


def test_dry_run_honours_shard(tmp_path, coco_mini, capsys):
    def ids(*extra: str) -> list[str]:
        run = tmp_path / "-".join(["run", *extra]).replace("/", "of")
        args = ["generate", "llava", "--coco", str(coco_mini), "--split", "val2017", "--out", str(run)]
        code, _, err = run_cli([*args, "--dry-run", *extra], capsys)
        assert code == 0, err
        return [r["custom_id"] for r in read_requests(run)]

    full = ids()
    shards = [ids("--shard", f"{k}/2") for k in range(2)]
    # each shard used to write every request (the dry run ignored --shard)
    assert sorted(shards[0] + shards[1]) == sorted(full) and len(full) == 9
    assert shards[0] and shards[1] and not set(shards[0]) & set(shards[1])


def test_dry_run_honours_shard_like_a_live_run(tmp_path, coco_mini, capsys, fake_llm):
    """--dry-run --shard K/N writes exactly the requests the live run of that shard sends."""
    src = ["--coco", str(coco_mini), "--split", "train2017"]
    prose = "A detailed description of the scene with many words " * 4
    fake_llm.handler = lambda body: prose
    shards = []
    for k in range(3):
        run = tmp_path / f"dry{k}"
        code, _, err = run_cli(
            ["generate", "detail", *src, "--dry-run", "--shard", f"{k}/3", "--out", str(run)], capsys
        )
        assert code == 0, err
        shards.append({r["custom_id"] for r in read_requests(run)})
    everything = tmp_path / "all"
    code, _, err = run_cli(["generate", "detail", *src, "--dry-run", "--out", str(everything)], capsys)
    assert code == 0, err
    all_ids = [r["custom_id"] for r in read_requests(everything)]
    assert len(all_ids) == 80 and all(0 < len(s) < 80 for s in shards)
    assert sorted(shards[0] | shards[1] | shards[2]) == sorted(all_ids)
    assert sum(len(s) for s in shards) == 80

    live = tmp_path / "live"
    args = ["generate", "detail", *src, "--shard", "1/3", "--base-url", fake_llm.url, "--quiet"]
    code, _, err = run_cli([*args, "--model", "m", "--out", str(live)], capsys)
    assert code == 0, err
    lines = [
        *(live / "results.jsonl").read_text().splitlines(),
        *(live / "failures.jsonl").read_text().splitlines(),
    ]
    sent = {json.loads(x)["sample_id"] for x in lines}  # same prose each time: duplicates are failures
    assert sent == shards[1]
