"""Reading descriptions for caption_rewrite: every input format, field mapping, and each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datagen.engine.outcome import rejected_record
from datagen.errors import InputError
from datagen.tasks.rewrite.descriptions import (
    read_descriptions,
    read_from_run,
    short_input_rejection,
    split_short,
)

LONG = "A white seagull flies low over a sandy beach while people walk near a boat at the water's edge."


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_with_image_id_and_caption(tmp_path: Path) -> None:
    p = write(
        tmp_path / "d.jsonl",
        json.dumps({"image_id": 126107, "caption": f"  {LONG}  "})
        + "\n\n"
        + json.dumps({"image_id": "7", "image": "sub/7.png", "caption": "x"})
        + "\n",
    )
    assert read_descriptions(p) == [
        {"id": "126107", "image": "126107.jpg", "description": LONG},
        {"id": "7", "image": "sub/7.png", "description": "x"},
    ]


def test_json_array_with_image_file_and_description(tmp_path: Path) -> None:
    p = write(tmp_path / "d.json", json.dumps([{"image": "000000126107.jpg", "description": LONG}]))
    assert read_descriptions(p) == [{"id": "000000126107", "image": "000000126107.jpg", "description": LONG}]


def test_minigpt4_filter_cap_json(tmp_path: Path) -> None:
    data = {"annotations": [{"image_id": "2", "caption": LONG}, {"image_id": "10", "caption": "Two."}]}
    p = write(tmp_path / "filter_cap.json", json.dumps(data))
    rows = read_descriptions(p)
    assert [(r["id"], r["image"]) for r in rows] == [("2", "2.jpg"), ("10", "10.jpg")]
    assert rows[0]["description"] == LONG


def test_csv_and_tsv_with_mapped_fields(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'file,text\nabc.jpg,"One, two, three."\n,\nxyz.jpeg,Four.\n')
    rows = read_descriptions(p, id_field="file", text_field="text")
    assert rows == [
        {"id": "abc", "image": "abc.jpg", "description": "One, two, three."},
        {"id": "xyz", "image": "xyz.jpeg", "description": "Four."},
    ]
    t = write(tmp_path / "d.tsv", "key\tblurb\nk1\tHello there.\n")
    assert read_descriptions(t, id_field="key", text_field="blurb") == [
        {"id": "k1", "image": "k1.jpg", "description": "Hello there."}
    ]


def test_empty_description_is_kept_for_the_short_check(tmp_path: Path) -> None:
    p = write(tmp_path / "d.jsonl", json.dumps({"image_id": 1, "caption": "   "}) + "\n")
    rows = read_descriptions(p)
    assert rows == [{"id": "1", "image": "1.jpg", "description": ""}]
    keep, short = split_short(rows, 1)
    assert keep == [] and short == rows


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message"),
    [
        (
            "d.jsonl",
            '{"caption": "text"}\n',
            {},
            "d.jsonl:1: no image id (looked for field image_id / image / id)",
        ),
        ("d.jsonl", '{"image_id": 1, "caption": "a"}\n{"image_id": 2}\n', {}, "d.jsonl:2: no description"),
        (
            "d.jsonl",
            '{"image_id": 1, "caption": "a"}\n{"image_id": 2,\n',
            {},
            "d.jsonl:2: not a valid JSON line",
        ),
        ("d.jsonl", '{"image_id": 1, "caption": ["a"]}\n', {}, "field 'caption' is list, expected text"),
        (
            "d.jsonl",
            '{"image_id": [1], "caption": "a"}\n',
            {},
            "field 'image_id' must be a string or integer id",
        ),
        (
            "d.jsonl",
            '{"image_id": 1, "caption": "a"}\n{"image_id": "1", "caption": "b"}\n',
            {},
            "d.jsonl:2: duplicate image id '1' (first at",
        ),
        (
            "d.jsonl",
            '{"image_id": 1, "caption": "a"}\n',
            {"text_field": "body"},
            "no description (looked for field body)",
        ),
        ("d.json", '{"images": []}', {}, "expected a JSON array of rows or a MiniGPT-4 filter_cap.json"),
        ("d.json", '[{"image_id": 1, "caption": "a"}, 5]', {}, "d.json[1]: expected an object"),
        ("d.json", '{"annotations": [{"image_id": 1', {}, "not valid JSON at line 1"),
        ("d.csv", "image_id,caption\n1,a,b\n", {}, "d.csv:2: more cells than header columns"),
        ("d.csv", "name,caption\n1,a\n", {}, "d.csv:2: no image id"),
        # an unclosed quote used to swallow every following row into one description, silently
        (
            "d.csv",
            'image_id,caption\n1,"A dog on a mat\n2,A cat on a sofa\n3,A bird\n',
            {},
            "d.csv:2: not valid CSV (unexpected end of data)",
        ),
        ("d.txt", "hello", {}, "unknown descriptions format '.txt'"),
        ("d.jsonl", "", {}, "no descriptions found"),
    ],
)
def test_bad_input_names_file_and_row(
    tmp_path: Path, name: str, content: str, kwargs: dict, message: str
) -> None:
    p = write(tmp_path / name, content)
    with pytest.raises(InputError) as err:
        read_descriptions(p, **kwargs)
    assert message in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_missing_file_folder_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_descriptions(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="is a folder"):
        read_descriptions(tmp_path)
    bad = tmp_path / "d.csv"
    bad.write_bytes(b"image_id,caption\n1,caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_descriptions(bad)


def _llava(task: str, id_: str, answer: str) -> dict:
    return {
        "id": id_,
        "image": f"{id_}.jpg",
        "task": task,
        "sample_id": f"{task}:{id_}",
        "conversations": [
            {"from": "human", "value": "<image>\nDescribe it."},
            {"from": "gpt", "value": answer},
        ],
    }


def test_from_run_takes_detail_descriptions_only(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    lines = [
        _llava("conversation", "000000126107", "Q?"),
        _llava("detail_description", "000000126107", f" {LONG} "),
        _llava("detail_description", "000000165518", "A man rides a motorcycle through fog."),
    ]
    text = "".join(json.dumps(x) + "\n" for x in lines) + '{"id": "torn'  # a crash-torn last line
    write(run / "results.jsonl", text)
    assert read_from_run(run) == [
        {"id": "000000126107", "image": "000000126107.jpg", "description": LONG},
        {
            "id": "000000165518",
            "image": "000000165518.jpg",
            "description": "A man rides a motorcycle through fog.",
        },
    ]


def test_from_run_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a run directory"):
        read_from_run(tmp_path)
    write(tmp_path / "results.jsonl", json.dumps(_llava("conversation", "1", "a")) + "\n")
    with pytest.raises(
        InputError, match=r"no detail_description samples to rewrite \(tasks found: conversation\)"
    ):
        read_from_run(tmp_path)


def test_short_input_failure_line() -> None:
    rows = [
        {"id": "1", "image": "1.jpg", "description": "A bird."},
        {"id": "2", "image": "2.jpg", "description": LONG},
    ]
    keep, short = split_short(rows, 5)
    assert [r["id"] for r in keep] == ["2"] and [r["id"] for r in short] == ["1"]
    # the failures.jsonl line the engine writes for it (no request was made, so no request key)
    assert rejected_record(short_input_rejection(short[0], 5)) == {
        "sample_id": "caption_rewrite:1",
        "id": "1",
        "image": "1.jpg",
        "task": "caption_rewrite",
        "stage": "filter",
        "reason": "too_short_input: 2 words, fewer than --min-words 5",
        "filter": "too_short_input",
        "attempts": 0,
        "raw": "A bird.",
        "request_key": None,
    }
