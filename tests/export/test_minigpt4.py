"""`datagen export minigpt4`: exact filter_cap.json, images from a real COCO root, refusal of escaping
paths, no partial output on failure, and a folder MiniGPT-4's dataset reader loads as is."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from PIL import Image
from support.cli import run_cli
from support.jsonl import write_jsonl

from datagen.export.minigpt4 import CAPTIONS_FILE

IDS = ["000000126107", "000000165518", "000000229358"]
CAPTIONS = {
    "000000126107": "A white seagull flies low over a sandy beach, with a few people and a boat in the distance.",
    "000000165518": "A man rides a motorcycle along a dark road, its headlight shining through thick fog.",
    "000000229358": "A man in a tie stands at a bathroom sink and looks at himself in the mirror.",
}


def record(id_: str, caption: str, image: str | None = None) -> dict:
    return {
        "id": id_,
        "image": image if image is not None else f"{id_}.jpg",
        "task": "caption_rewrite",
        "sample_id": f"caption_rewrite:{id_}",
        "conversations": [
            {"from": "human", "value": "<image>\nDescribe this image in detail."},
            {"from": "gpt", "value": caption},
        ],
        "source_text": caption + " " + caption,
    }


def make_run(path: Path, records: list[dict]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    write_jsonl(path / "results.jsonl", records)
    return path


@pytest.fixture()
def image_root(tmp_path: Path, coco_mini: Path) -> Path:
    """A private copy of the real val2017 JPEGs, so tests can add symlinks beside them."""
    root = tmp_path / "val2017"
    shutil.copytree(coco_mini / "val2017", root)
    return root


def minigpt4_load(storage: Path) -> list[tuple[str, Image.Image, str]]:
    """What MiniGPT-4's caption dataset does: json.load(...)['annotations'], then for each one open
    os.path.join(vis_root, '{}.jpg'.format(image_id)) with PIL and convert to RGB; image ids are dict keys."""
    with open(storage / "filter_cap.json") as f:
        annotations = json.load(f)["annotations"]
    img_ids: dict[str, int] = {}
    for ann in annotations:
        img_ids.setdefault(ann["image_id"], len(img_ids))
    out = []
    for ann in annotations:
        path = os.path.join(storage / "image", "{}.jpg".format(ann["image_id"]))
        out.append((ann["image_id"], Image.open(path).convert("RGB"), ann["caption"]))
    return out


def test_export_copies_real_images_and_writes_exact_filter_cap(
    tmp_path: Path, image_root: Path, coco_mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", [record(i, CAPTIONS[i]) for i in IDS])
    out = tmp_path / "minigpt4"
    code, stdout, _ = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root)], capsys
    )
    assert code == 0
    assert "Wrote 3 captions" in stdout and "3 images copied" in stdout
    assert json.loads((out / CAPTIONS_FILE).read_text()) == {
        "annotations": [{"image_id": i, "caption": CAPTIONS[i]} for i in IDS]
    }
    assert sorted(p.name for p in (out / "image").iterdir()) == [f"{i}.jpg" for i in IDS]
    for i in IDS:  # byte-for-byte copies of the real JPEGs
        assert (out / "image" / f"{i}.jpg").read_bytes() == (coco_mini / "val2017" / f"{i}.jpg").read_bytes()
    loaded = minigpt4_load(out)
    assert [(i, c) for i, _, c in loaded] == [(i, CAPTIONS[i]) for i in IDS]
    assert all(isinstance(i, str) for i, _, _ in loaded)
    assert loaded[0][1].size == (640, 480)  # 000000126107 is 640x480 in COCO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minigpt4", "run", "val2017"]  # no temp leftovers
    # the folder gets the umask's mode like any new folder (mkdtemp's 0700 would lock out other users)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask


def test_link_mode_symlinks_into_the_root(
    tmp_path: Path, image_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", [record(i, CAPTIONS[i]) for i in IDS[:2]])
    out = tmp_path / "linked"
    code, stdout, _ = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root), "--link"], capsys
    )
    assert code == 0 and "2 images linked" in stdout
    for i in IDS[:2]:
        link = out / "image" / f"{i}.jpg"
        assert link.is_symlink() and Path(os.readlink(link)) == (image_root / f"{i}.jpg").resolve()
    assert len(minigpt4_load(out)) == 2


@pytest.mark.parametrize("kind", ["symlink", "dotdot", "absolute"])
def test_escaping_image_paths_are_refused_and_nothing_written(
    tmp_path: Path, image_root: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "outside.jpg"
    shutil.copy(image_root / f"{IDS[0]}.jpg", secret)  # a real JPEG, so only the path decides
    if kind == "symlink":
        (image_root / "evil.jpg").symlink_to(secret)
        name = "evil.jpg"
    elif kind == "dotdot":
        name = "../outside.jpg"
    else:
        name = str(secret)
    run = make_run(
        tmp_path / "run", [record(IDS[1], CAPTIONS[IDS[1]]), record("evil", "A trap.", image=name)]
    )
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root)], capsys
    )
    assert code == 2
    assert err.startswith("Error: 1 image problem(s), nothing written: 1 refused")
    assert name in err and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temp folder left

    # With --skip-missing-images the refused sample is dropped and reported; the file is never followed.
    code, stdout, err = run_cli(
        [
            "export",
            "minigpt4",
            str(run),
            "--out",
            str(out),
            "--images",
            str(image_root),
            "--skip-missing-images",
        ],
        capsys,
    )
    assert code == 0
    assert "Skipped 1 sample(s): 1 refused" in err
    assert json.loads((out / CAPTIONS_FILE).read_text())["annotations"] == [
        {"image_id": IDS[1], "caption": CAPTIONS[IDS[1]]}
    ]
    assert [p.name for p in (out / "image").iterdir()] == [f"{IDS[1]}.jpg"]


def test_missing_image_and_exclude_ids(
    tmp_path: Path, image_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(
        tmp_path / "run", [record(i, CAPTIONS[i]) for i in IDS] + [record("000000000139", "A room.")]
    )
    out = tmp_path / "out"
    code, _, err = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root)], capsys
    )
    assert code == 2 and "1 missing" in err and "000000000139.jpg' not found" in err
    assert not out.exists()
    excl = tmp_path / "exclude.json"
    excl.write_text(json.dumps(["000000000139", IDS[0]]))
    code, stdout, _ = run_cli(
        [
            "export",
            "minigpt4",
            str(run),
            "--out",
            str(out),
            "--images",
            str(image_root),
            "--exclude-ids",
            str(excl),
        ],
        capsys,
    )
    assert code == 0 and "Wrote 2 captions" in stdout
    assert [a["image_id"] for a in json.loads((out / CAPTIONS_FILE).read_text())["annotations"]] == IDS[1:]


def test_png_is_converted_on_copy_and_refused_on_link(
    tmp_path: Path, image_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.open(image_root / f"{IDS[2]}.jpg").save(image_root / "mirror.png")
    run = make_run(tmp_path / "run", [record("mirror", CAPTIONS[IDS[2]], image="mirror.png")])
    code, _, err = run_cli(
        ["export", "minigpt4", str(run), "--out", str(tmp_path / "l"), "--images", str(image_root), "--link"],
        capsys,
    )
    assert code == 2 and "not a JPEG; --copy converts it" in err
    code, _, _ = run_cli(
        ["export", "minigpt4", str(run), "--out", str(tmp_path / "c"), "--images", str(image_root)], capsys
    )
    assert code == 0
    with Image.open(tmp_path / "c" / "image" / "mirror.jpg") as im:
        assert im.format == "JPEG" and im.size == (640, 423)


def test_existing_output_needs_overwrite_and_is_replaced_whole(
    tmp_path: Path, image_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    run = make_run(tmp_path / "run", [record(IDS[0], CAPTIONS[IDS[0]])])
    code, _, err = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root)], capsys
    )
    assert code == 2 and "not empty" in err and "--overwrite" in err
    assert (out / "keep.txt").read_text() == "old"
    code, _, _ = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root), "--overwrite"],
        capsys,
    )
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["filter_cap.json", "image"]


def test_failure_while_writing_leaves_no_partial_output(
    tmp_path: Path, image_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import datagen.export.minigpt4 as mod

    real = mod._write_image
    calls = []

    def failing_second(src: Path, dst: Path, mode: str, convert: bool) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst, mode, convert)  # type: ignore[arg-type]

    monkeypatch.setattr(mod, "_write_image", failing_second)
    run = make_run(tmp_path / "run", [record(i, CAPTIONS[i]) for i in IDS])
    out = tmp_path / "out"
    code, _, err = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root)], capsys
    )
    assert code == 1 and "writing the export failed, nothing written" in err and "No space left" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "val2017"]


def test_without_images_only_captions_and_bad_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", [record(IDS[0], CAPTIONS[IDS[0]])])
    code, stdout, _ = run_cli(["export", "minigpt4", str(run), "--out", str(tmp_path / "o")], capsys)
    assert code == 0 and "image/ not written" in stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["filter_cap.json"]

    multi = record(IDS[1], "First answer.")
    multi["conversations"] += [{"from": "human", "value": "And?"}, {"from": "gpt", "value": "More."}]
    run2 = make_run(tmp_path / "run2", [multi])
    code, _, err = run_cli(["export", "minigpt4", str(run2), "--out", str(tmp_path / "o2")], capsys)
    assert code == 2 and "has 2 question/answer pairs" in err and "--task detail_description" in err
    multi["task"] = "conversation"
    make_run(tmp_path / "run3", [multi, record(IDS[0], CAPTIONS[IDS[0]])])
    code, stdout, _ = run_cli(
        [
            "export",
            "minigpt4",
            str(tmp_path / "run3"),
            "--out",
            str(tmp_path / "o5"),
            "--task",
            "caption_rewrite",
        ],
        capsys,
    )
    assert code == 0 and "Wrote 1 captions" in stdout
    code, _, err = run_cli(
        ["export", "minigpt4", str(tmp_path / "nope"), "--out", str(tmp_path / "o3")], capsys
    )
    assert code == 2 and "no such file or folder" in err
    code, _, err = run_cli(["export", "minigpt4", str(run), "--out", str(tmp_path / "o4"), "--link"], capsys)
    assert code == 2 and "--link needs --images" in err


def test_same_image_twice_and_conflicting_stems(
    tmp_path: Path, image_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (image_root / "sub").mkdir()
    shutil.copy(image_root / f"{IDS[0]}.jpg", image_root / "sub" / f"{IDS[0]}.jpg")
    twice = [record(IDS[0], "First caption."), record(IDS[0], "Second caption.")]
    make_run(tmp_path / "run", twice)
    code, _, _ = run_cli(
        [
            "export",
            "minigpt4",
            str(tmp_path / "run"),
            "--out",
            str(tmp_path / "o"),
            "--images",
            str(image_root),
        ],
        capsys,
    )
    assert code == 0
    assert [a["caption"] for a in minigpt4_load_captions(tmp_path / "o")] == [
        "First caption.",
        "Second caption.",
    ]
    assert [p.name for p in (tmp_path / "o" / "image").iterdir()] == [f"{IDS[0]}.jpg"]

    clash = [record(IDS[0], "Top level."), record("other", "In a subfolder.", image=f"sub/{IDS[0]}.jpg")]
    make_run(tmp_path / "run2", clash)
    code, _, err = run_cli(
        [
            "export",
            "minigpt4",
            str(tmp_path / "run2"),
            "--out",
            str(tmp_path / "o2"),
            "--images",
            str(image_root),
        ],
        capsys,
    )
    assert code == 2 and "1 conflict" in err and f"would both be image/{IDS[0]}.jpg" in err


def minigpt4_load_captions(storage: Path) -> list[dict]:
    return [{"image_id": i, "caption": c} for i, _, c in minigpt4_load(storage)]


def test_every_sample_dropped_says_why(
    tmp_path: Path, image_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", [record("000000000139", "A room.")])
    out = tmp_path / "out"
    args = ["export", "minigpt4", str(run), "--out", str(out), "--images", str(image_root)]
    code, _, err = run_cli([*args, "--skip-missing-images"], capsys)
    # used to be only "every sample was dropped", with no hint of which image or why
    assert code == 2 and err.startswith("Error: every sample was dropped, nothing to export: 1 missing")
    assert "000000000139.jpg' not found" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
