"""Template folders in LLaVA's published layout, our bundled templates, and strict rendering."""

from __future__ import annotations

import pytest
from support.contexthelpers import TASKS, make_llava_layout

from datagen.common.resources import templates_root
from datagen.errors import TemplateError
from datagen.prompts.templates import list_templates, load_template, render


def test_llava_layout_loads_byte_for_byte(tmp_path):
    root = make_llava_layout(tmp_path / "prompts")
    t = load_template("detail_description", root)
    assert t.system == "System for detail_description: use {braces} and $dollars as-is."
    assert t.examples == [
        ("caps 0 of detail_description\n\nperson: [0.1, 0.2, 0.3, 0.4]", "Question:\nq0?\n===\nAnswer:\na0."),
        ("caps 1 of detail_description\n\nperson: [0.1, 0.2, 0.3, 0.4]", "Question:\nq1?\n===\nAnswer:\na1."),
    ]
    # no task.toml: settings come from the bundled folder of the same task
    assert t.context_fields == ["captions", "boxes"]
    assert load_template("conversation", root).context_fields == ["captions"]
    msgs = t.messages("NEW {context} $x")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert msgs[-1]["content"] == "NEW {context} $x"
    assert sorted(list_templates(root)) == sorted(TASKS)


def test_pairs_in_numeric_order_and_other_files_ignored(tmp_path):
    d = tmp_path / "conversation"
    d.mkdir()
    (d / "system_message.txt").write_text("sys")
    for n in (10, 2, 1):
        (d / f"{n}_caps.txt").write_text(f"c{n}")
        (d / f"{n}_conv.txt").write_text(f"a{n}")
    (d / "README.md").write_text("notes")
    t = load_template("conversation", tmp_path)
    assert t.examples == [("c1", "a1"), ("c2", "a2"), ("c10", "a10")]


def test_crlf_and_unicode_kept_exactly(tmp_path):
    d = tmp_path / "conversation"
    d.mkdir()
    (d / "system_message.txt").write_bytes("Système\r\nligne 2 — ok".encode())
    t = load_template("conversation", tmp_path)
    assert t.system == "Système\r\nligne 2 — ok"
    assert t.examples == []


def test_hash_changes_with_content(tmp_path):
    root = make_llava_layout(tmp_path / "p")
    h1 = load_template("conversation", root).hash
    assert h1 == load_template("conversation", root).hash and len(h1) == 16
    (root / "conversation" / "001_conv.txt").write_bytes(b"Question:\nq1?\n===\nAnswer:\nother.")
    assert load_template("conversation", root).hash != h1


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (lambda d: (d / "001_conv.txt").unlink(), "001_caps.txt has no matching 001_conv.txt"),
        (lambda d: (d / "system_message.txt").unlink(), "no system_message.txt for task 'conversation'"),
        (lambda d: (d / "system_message.txt").write_bytes(b"  \n"), "is empty"),
        (lambda d: (d / "000_caps.txt").write_bytes(b"\xff\xfe bad"), "not UTF-8"),
        (lambda d: (d / "task.toml").write_text("context = ["), "not valid TOML"),
        (lambda d: (d / "task.toml").write_text('context = ["pixels"]'), "'context' must be"),
        (lambda d: (d / "task.toml").write_text("colour = 3"), "unknown setting(s) colour"),
        (lambda d: (d / "task.toml").write_text('instructions = "nope.txt"'), "instruction list not found"),
    ],
)
def test_broken_template_folders(tmp_path, setup, needle):
    root = make_llava_layout(tmp_path / "p")
    setup(root / "conversation")
    with pytest.raises(TemplateError) as e:
        load_template("conversation", root)
    assert needle in str(e.value)


def test_missing_task_folder_lists_what_exists(tmp_path):
    root = make_llava_layout(tmp_path / "p")
    with pytest.raises(
        TemplateError, match="task folders there: complex_reasoning, conversation, detail_description"
    ):
        load_template("caption_rewrite", root)
    with pytest.raises(TemplateError, match="single task's folder"):
        load_template("conversation", root / "conversation")
    with pytest.raises(TemplateError, match="no such templates folder"):
        load_template("conversation", tmp_path / "absent")


def test_instruction_list_from_task_toml(tmp_path):
    root = make_llava_layout(tmp_path / "p")
    d = root / "detail_description"
    (d / "task.toml").write_text(
        'context = ["captions", "boxes"]\ninstructions = "instr.txt"\nmax_tokens = 300\n'
    )
    (d / "instr.txt").write_text("Describe the image.\n\n  Tell me about this picture.\n")
    t = load_template("detail_description", root)
    assert t.instructions == ["Describe the image.", "Tell me about this picture."]
    assert t.max_tokens == 300


def test_render_is_strict_and_single_pass():
    assert (
        render("Hi {{ name }}, {x} $y {{name}}", {"name": "{{name}} $1"})
        == "Hi {{name}} $1, {x} $y {{name}} $1"
    )
    with pytest.raises(TemplateError, match=r"no value for \{\{a\}\}, \{\{b\}\}"):
        render("{{b}} {{a}} {{c}}", {"c": 1})


def test_bundled_templates_follow_the_contract(bundled_data):
    assert set(TASKS) <= set(list_templates())  # other tasks (caption_rewrite, ...) ship templates too
    assert templates_root().name in ("templates", "_templates")
    for task in TASKS:
        t = load_template(task)
        assert len(t.examples) >= 2
        for caps, conv in t.examples:
            assert not caps.endswith("\n") and not conv.endswith("\n")
            if task == "detail_description":
                assert "Question:" not in conv and "===" not in conv
            else:
                blocks = conv.split("\n===\n")
                assert len(blocks) % 2 == 0
                assert all(b.startswith("Question:\n") for b in blocks[::2])
                assert all(b.startswith("Answer:\n") for b in blocks[1::2])
                if task == "complex_reasoning":
                    assert len(blocks) == 2
            if task == "conversation":
                assert "\n\n" not in caps  # captions only
            else:
                assert ": [0." in caps.split("\n\n")[1]


def test_bundled_examples_are_real_coco_contexts(coco_mini):
    """The few-shot contexts are the exact contexts of real COCO-mini train images."""
    from datagen.prompts.context import render_context
    from datagen.sources.coco import build_coco_contexts

    recs, _ = build_coco_contexts(
        coco_mini / "annotations/captions_train2017.json", coco_mini / "annotations/instances_train2017.json"
    )
    for task in TASKS:
        t = load_template(task)
        rendered = {render_context(r, t.context_fields) for r in recs}
        for caps, _ in t.examples:
            assert caps in rendered
