"""`--image-input`: what a vision-language server receives, run through the real CLI against the
loopback server, which decodes every image part as a VLM server would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import images as fx
from support.cli import run_datagen
from support.coco_contexts import contexts

from datagen.prompts.context import render_context
from datagen.prompts.images import fitted
from datagen.prompts.templates import load_template

N = 6


@pytest.fixture
def fake_llm(fake_llm):  # type: ignore[no-untyped-def]
    """The loopback server, answering every request with a conversation that parses (and differs
    per request, so the duplicate filter keeps them all)."""
    from support.fakeserver import messages_key

    def reply(body: dict[str, Any]) -> str:
        tag = messages_key(body.get("messages"))[:10]
        return f"Question:\nWhat is shown in picture {tag}?\n===\nAnswer:\nThe picture {tag} shows a scene."

    fake_llm.handler = reply
    return fake_llm


@pytest.fixture(scope="module")
def records(coco_mini: Path) -> list[dict[str, Any]]:
    return contexts(coco_mini, "train")[:N]


@pytest.fixture
def image_dir(tmp_path: Path, coco_mini: Path, records: list[dict[str, Any]]) -> Path:
    """An image folder with a photo of each record's own size under its COCO file name (the real
    COCO-mini val2017 pixels, resized: the train2017 photos are not in the sample)."""
    real = sorted((coco_mini / "val2017").glob("*.jpg"))
    root = tmp_path / "images"
    for i, rec in enumerate(records):
        fx.photo(root / rec["image"], (rec["width"], rec["height"]), real[i % len(real)])
    return root


def generate(coco_mini: Path, out: Path, url: str, *extra: Any, task: str = "conversation"):  # type: ignore[no-untyped-def]
    return run_datagen(
        "generate", task, "--coco", coco_mini, "--split", "train2017", "--limit", N,
        "--out", out, "--base-url", url, "--model", "m", "--quiet", *extra,
    )  # fmt: skip


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def chats(srv) -> list[Any]:  # type: ignore[no-untyped-def]
    return [e for e in srv.log if e.path.endswith("/chat/completions") and e.status == 200]


def test_default_sends_text_only_byte_for_byte(fake_llm, coco_mini, tmp_path, records) -> None:  # type: ignore[no-untyped-def]
    r = generate(coco_mini, tmp_path / "run", fake_llm.url)
    assert r.returncode == 0, r.stderr
    tpl = load_template("conversation")
    sent = chats(fake_llm)
    assert len(sent) == N and all(not e.images for e in sent)
    finals = sorted(e.messages[-1]["content"] for e in sent)
    assert finals == sorted(render_context(rec, tpl.context_fields) for rec in records)
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["config"]["vision"]["mode"] == "none"


def test_each_request_carries_its_image_resized_with_the_text_unchanged(
    fake_llm, coco_mini, tmp_path, records, image_dir
) -> None:  # type: ignore[no-untyped-def]
    r = generate(
        coco_mini, tmp_path / "run", fake_llm.url, "--image-input", "base64", "--images", image_dir,
        "--image-max-side", 96, "--image-detail", "low",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    tpl = load_template("conversation")
    few_shot = tpl.messages("X")[:-1]
    by_text = {render_context(rec, tpl.context_fields): rec for rec in records}
    sent = chats(fake_llm)
    assert len(sent) == N
    for e in sent:
        assert len(e.images) == 1
        img = e.images[0]
        assert (img.message, img.part) == (len(e.messages) - 1, 0)  # the image first, then the text
        assert img.format == "JPEG" and img.mime == "image/jpeg" and img.detail == "low"
        final = e.messages[-1]["content"]
        assert [p["type"] for p in final] == ["image_url", "text"]
        rec = by_text[final[1]["text"]]  # the text part is the symbolic context, byte for byte
        assert img.size == fitted((rec["width"], rec["height"]), 96)
        assert e.messages[:-1] == few_shot  # few-shot and system messages unchanged, text only
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["config"]["vision"]["mode"] == "base64" and meta["config"]["vision"]["max_side"] == 96
    assert meta["runs"][-1]["images_sent"] == N
    sizes = [fitted((rec["width"], rec["height"]), 96) for rec in records]  # model "m": 28-px patches
    assert meta["runs"][-1]["image_tokens_estimate"] == sum(
        max(64, -(-w // 28) * -(-h // 28)) for w, h in sizes
    )


def test_awkward_images_arrive_upright_and_rgb(fake_llm, coco_mini, tmp_path, records, image_dir) -> None:  # type: ignore[no-untyped-def]
    makers = [fx.oriented_jpeg, fx.alpha_png, fx.cmyk_jpeg, fx.animated_gif, fx.palette_png]
    for rec, make in zip(records, makers, strict=False):
        make(image_dir / rec["image"])  # same file name, other content (Pillow reads the bytes)
    r = generate(coco_mini, tmp_path / "run", fake_llm.url, "--image-input", "base64", "--images", image_dir,
                 "--image-format", "png")  # fmt: skip
    assert r.returncode == 0, r.stderr
    tpl = load_template("conversation")
    seen = {e.messages[-1]["content"][1]["text"]: e.images[0] for e in chats(fake_llm)}
    got = [seen[render_context(rec, tpl.context_fields)] for rec in records]
    assert all(g.format == "PNG" and g.mode == "RGB" for g in got)
    oriented, alpha, cmyk, gif, palette = (g.pixels for g in got[:5])
    assert oriented.size == (40, 60)  # EXIF orientation 6 applied: portrait, red on top
    assert fx_close(oriented.getpixel((20, 5)), fx.RED) and fx_close(oriented.getpixel((20, 55)), fx.BLUE)
    assert alpha.getpixel((2, 2)) == fx.WHITE and alpha.getpixel((40, 10)) == fx.GREEN
    assert fx_close(cmyk.getpixel((10, 10)), fx.RED)
    assert gif.getpixel((5, 5)) == fx.RED  # the first frame
    assert palette.getpixel((2, 2)) == fx.WHITE and palette.getpixel((30, 5)) == fx.BLUE


def fx_close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_bad_images_fail_their_sample_at_stage_input(
    fake_llm, coco_mini, tmp_path, records, image_dir
) -> None:  # type: ignore[no-untyped-def]
    real = next((coco_mini / "val2017").glob("*.jpg"))
    outside = fx.photo(tmp_path / "outside" / "secret.jpg", (30, 30))
    names = [rec["image"] for rec in records]
    (image_dir / names[0]).unlink()  # missing
    fx.truncated_jpeg(image_dir / names[1], real)
    fx.bomb_png(image_dir / names[2])  # a 20000x20000 header
    (image_dir / names[3]).unlink()
    (image_dir / names[3]).symlink_to(outside)  # a symlink out of --images
    fx.not_an_image(image_dir / names[4])
    r = generate(coco_mini, tmp_path / "run", fake_llm.url, "--image-input", "base64", "--images", image_dir)
    fails = {f["image"]: f for f in jsonl(tmp_path / "run" / "failures.jsonl")}
    expected = ["not found", "cannot be decoded", "decompression bomb", "outside", "not an image"]
    for name, words in zip(names, expected, strict=False):
        assert fails[name]["stage"] == "input" and words in fails[name]["reason"], fails[name]
        assert fails[name]["attempts"] == 0
    assert len(fails) == 5
    sent = chats(fake_llm)
    assert len(sent) == 1 and len(sent[0].images) == 1  # only the good one; never sent text-only
    assert len(jsonl(tmp_path / "run" / "results.jsonl")) == 1
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["counts"]["failed"]["input"] == 5
    assert r.returncode == 0 or "failed" in r.stderr
    # Fix two files and run again: exactly those are asked, the input failures are replaced.
    fx.photo(image_dir / names[0], (50, 40))
    shutil.copy(real, image_dir / names[1])
    fake_llm.log.clear()
    generate(coco_mini, tmp_path / "run", fake_llm.url, "--image-input", "base64", "--images", image_dir)
    assert len(chats(fake_llm)) == 2
    fails = jsonl(tmp_path / "run" / "failures.jsonl")
    assert sorted(f["image"] for f in fails) == sorted(names[2:5])


def test_keys_follow_the_bytes_sent(fake_llm, coco_mini, tmp_path, records, image_dir) -> None:  # type: ignore[no-untyped-def]
    small = records[0]
    fx.photo(image_dir / small["image"], (60, 45))  # already smaller than every --image-max-side below
    args = ["--image-input", "base64", "--images", image_dir]
    generate(coco_mini, tmp_path / "run", fake_llm.url, *args, "--image-max-side", 128)
    assert len(chats(fake_llm)) == N
    fake_llm.log.clear()
    generate(coco_mini, tmp_path / "run", fake_llm.url, *args, "--image-max-side", 128)
    assert chats(fake_llm) == []  # resumed: nothing asked twice
    generate(coco_mini, tmp_path / "run", fake_llm.url, *args, "--image-max-side", 256)
    again = chats(fake_llm)
    assert len(again) == N - 1  # the small image is sent the same either way: not asked again
    assert all(max(e.images[0].size) == 256 for e in again)
    fake_llm.log.clear()
    generate(coco_mini, tmp_path / "run", fake_llm.url, *args, "--image-max-side", 256, "--image-quality", 60)
    assert len(chats(fake_llm)) == N - 1  # re-encoded images changed; the small JPEG is sent as it is
    fake_llm.log.clear()
    fx.photo(image_dir / small["image"], (60, 45), next((coco_mini / "val2017").glob("*.jpg")))
    generate(coco_mini, tmp_path / "run", fake_llm.url, *args, "--image-max-side", 256, "--image-quality", 60)
    assert len(chats(fake_llm)) == 1  # a changed file: only its sample


def test_url_mode_sends_the_url_and_reads_nothing(fake_llm, coco_mini, tmp_path, records) -> None:  # type: ignore[no-untyped-def]
    prefix = "http://images.example.org/val2017/"
    r = generate(coco_mini, tmp_path / "run", fake_llm.url, "--image-input", "url", "--image-url-prefix", prefix,
                 "--image-detail", "high")  # fmt: skip
    assert r.returncode == 0, r.stderr
    urls = sorted(e.images[0].url for e in chats(fake_llm))
    assert urls == sorted(prefix + rec["image"] for rec in records)
    assert all(e.images[0].detail == "high" for e in chats(fake_llm))


def test_few_shot_examples_get_their_own_image(fake_llm, coco_mini, tmp_path, image_dir) -> None:  # type: ignore[no-untyped-def]
    tdir = tmp_path / "templates"
    shutil.copytree(load_template("conversation").folder, tdir / "conversation")
    fx.photo(tdir / "conversation" / "000.jpg", (300, 200))
    args = [
        "--templates-dir",
        tdir,
        "--image-input",
        "base64",
        "--images",
        image_dir,
        "--image-max-side",
        100,
    ]
    r = generate(coco_mini, tmp_path / "run", fake_llm.url, *args)
    assert r.returncode == 0, r.stderr
    tpl = load_template("conversation", tdir)
    for e in chats(fake_llm):
        assert [(i.message, i.size) for i in e.images][0] == (1, (100, 67))  # example 000's user turn
        assert e.messages[1]["content"][1]["text"] == tpl.examples[0][0]
        assert e.messages[3] == {"role": "user", "content": tpl.examples[1][0]}  # 001 has no image
        assert len(e.images) == 2
    r = generate(coco_mini, tmp_path / "text", fake_llm.url, "--templates-dir", tdir)
    assert r.returncode == 0 and all(not e.images for e in chats(fake_llm)[-N:])  # text-only: ignored


def test_dry_run_and_batch_carry_the_images(fake_llm, coco_mini, tmp_path, image_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    args = ["--image-input", "base64", "--images", image_dir, "--image-max-side", 64, "--image-detail", "low"]
    r = run_datagen(
        "generate", "conversation", "--coco", coco_mini, "--split", "train2017", "--limit", N,
        "--out", tmp_path / "dry", "--dry-run", "--model", "gpt-4o", *args,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"images: {N}, about {85 * N} of the prompt tokens" in r.stdout
    lines = jsonl(tmp_path / "dry" / "requests.jsonl")
    assert len(lines) == N
    part = lines[0]["body"]["messages"][-1]["content"][0]
    assert part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    monkeypatch.setenv("DATAGEN_BATCH_POLL", "0.01")
    r = generate(coco_mini, tmp_path / "batch", fake_llm.url, "--batch", *args)
    assert r.returncode == 0, r.stderr
    lines = [e for e in fake_llm.log if e.path == "/v1/batches#line"]
    assert len(lines) == N and all(len(e.images) == 1 and max(e.images[0].size) <= 64 for e in lines)
    assert len(jsonl(tmp_path / "batch" / "results.jsonl")) == N


def test_usage_errors(fake_llm, coco_mini, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = generate(coco_mini, tmp_path / "a", fake_llm.url, "--image-max-side", 100)
    assert r.returncode != 0 and "--image-input" in r.stderr and "Traceback" not in r.stderr
    r = generate(coco_mini, tmp_path / "b", fake_llm.url, "--image-input", "url")
    assert r.returncode != 0 and "--image-url-prefix" in r.stderr
    r = generate(
        coco_mini, tmp_path / "c", fake_llm.url, "--image-input", "base64", "--images", tmp_path / "nope"
    )
    assert r.returncode != 0 and "no such folder" in r.stderr
    assert fake_llm.log == []


def test_pillow_reads_what_the_fixtures_claim(tmp_path: Path) -> None:
    assert Image.open(fx.oriented_jpeg(tmp_path / "o.jpg")).getexif()[0x0112] == 6
    assert Image.open(fx.cmyk_jpeg(tmp_path / "c.jpg")).mode == "CMYK"
    with pytest.raises(Image.DecompressionBombError):  # Pillow itself refuses this header
        Image.open(fx.bomb_png(tmp_path / "b.png"))


def test_tpm_pacing_counts_the_image_tokens(tmp_path, image_dir, records) -> None:  # type: ignore[no-untyped-def]
    from datagen.engine.config import EngineConfig
    from datagen.engine.jobs import build_jobs
    from datagen.engine.runner import LiveRun
    from datagen.prompts.vision import VisionOptions
    from datagen.rundir.store import RunStore
    from datagen.tasks.base import TaskOptions
    from datagen.tasks.registry import get_task

    vision = VisionOptions(mode="base64", images=str(image_dir), image_tokens=1000)
    cfg = EngineConfig(model="m", base_urls=["http://127.0.0.1:9/v1"], tpm=10_000, vision=vision)
    tasks = {"conversation": get_task("conversation")}
    jobs = build_jobs(tasks, TaskOptions(), lambda: records).jobs
    text_only = LiveRun(tasks, TaskOptions(), EngineConfig(model="m", base_urls=cfg.base_urls, tpm=10_000),
                        RunStore(tmp_path / "a"), {})  # fmt: skip
    seeing = LiveRun(tasks, TaskOptions(), cfg, RunStore(tmp_path / "b"), {})
    w_text = text_only.start(jobs, [])[0]
    w_img = seeing.start(jobs, [])[0]
    assert seeing._estimate(w_img) == text_only._estimate(w_text) + 1000
    assert w_img.key != w_text.key
    seeing.images.close()  # type: ignore[union-attr]
