"""What `--help` shows besides each option's own text, declared in one place: the help panel of
every option (grouped by purpose), 2-4 real example command lines per command, and the TASK list
of `generate` read from the task registry.

`decorate(root)` applies it to the click command tree typer builds (cli.py calls it once), so the
command modules only declare their options. An option missing from `PANELS` lands in the plain
"Options" panel; tests/cli/test_help.py fails then for the commands that group their options, and
checks that every example here parses with the real command.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

from rich.markup import escape

SOURCE = "Source"
MODEL = "Model and server"
PROMPT = "Prompt"
THROUGHPUT = "Throughput"
IMAGES = "Images"
OUTPUT = "Output"
SELECT = "Which samples"
FILTERS = "Quality filters"
TASK = "Task-specific"

# Panel of each option by its long name; `OVERRIDES` below wins for one command (path prefix).
PANELS: dict[str, str] = {
    **dict.fromkeys(
        ["--coco", "--split", "--captions", "--instances", "--input", "--skip-crowd", "--box-format",
         "--captions-file", "--detections", "--categories", "--min-score", "--max-boxes", "--contexts",
         "--limit"],
        SOURCE,
    ),
    **dict.fromkeys(
        ["--model", "--base-url", "--temperature", "--max-tokens", "--price-in", "--price-out"], MODEL
    ),
    **dict.fromkeys(
        ["--templates-dir", "--instructions", "--image-token", "--structured", "--seed", "--rubric"], PROMPT
    ),
    **dict.fromkeys(
        ["--batch", "--concurrency", "--rpm", "--tpm", "--timeout", "--max-attempts", "--max-retries",
         "--shard", "--max-prompt-tokens", "--executor", "--ray-address", "--workers"],
        THROUGHPUT,
    ),
    **dict.fromkeys(
        ["--images", "--skip-missing-images", "--image-mode", "--embed-images", "--link", "--copy",
         "--image-url-prefix", "--min-pixels", "--max-pixels", "--embed", "--image-input", "--image-max-side",
         "--image-format", "--image-quality", "--image-detail", "--image-tokens"],
        IMAGES,
    ),
    **dict.fromkeys(
        ["--out", "--dry-run", "--quiet", "--log-every", "--json-progress", "--append", "--overwrite",
         "--format", "--max-shard-size", "--hf-split", "--by-task", "--per-task", "--name", "--push-to-hub",
         "--private", "--report", "--no-html", "--max-file-mb", "--source", "--default-task"],
        OUTPUT,
    ),
    **dict.fromkeys(
        ["--task", "--exclude-ids", "--min-judge-score", "--judge", "--shuffle", "--mix", "--sample",
         "--include-failures", "--vqa-annotations"],
        SELECT,
    ),
    **dict.fromkeys(["--no-filter", "--filter", "--max-failure-rate"], FILTERS),
    **dict.fromkeys(
        ["--tasks", "--descriptions", "--from-run", "--id-field", "--text-field", "--min-words",
         "--min-ratio", "--questions", "--examples", "--shots", "--margin", "--max-questions",
         "--min-region", "--negatives", "--pairwise", "--bootstrap", "--captions-from"],
        TASK,
    ),
}  # fmt: skip

OVERRIDES: dict[str, dict[str, str]] = {
    "generate": {"--limit": SOURCE},
    "judge": {"--seed": TASK, "--limit": SELECT},
    "adapt": {"--seed": SELECT},
    "export": {"--seed": SELECT},
    "review": {"--seed": SELECT, "--contexts": SOURCE},
    "context": {
        "--show": "Show one record",
        "--as-task": "Show one record",
        "--templates-dir": "Show one record",
    },
    "audit": {
        **dict.fromkeys(["--instances", "--coco", "--split", "--contexts"], "Ground truth"),
        **dict.fromkeys(["--near-dup-threshold", "--shingle", "--fail-on", "--compare", "--seed"], "Checks"),
    },
    "cc3m filter": {
        **dict.fromkeys(["--min-freq", "--max-per-phrase", "--seed", "--sample-from"], SELECT),
        **dict.fromkeys(
            ["--spacy-model", "--batch-size", "--chunk-size", "--cache-dir", "--shard", "--select-only"],
            "Noun phrases",
        ),
        **dict.fromkeys(["--id-prefix", "--instructions", "--plot"], OUTPUT),
    },
}

GROUPED_AT = 8  # commands with at least this many options show them in panels (tested)

# 2-4 example command lines per command; `{fmt}` is the format of an `export FORMAT` command.
EXAMPLES: dict[str, list[str]] = {
    "demo": ["datagen demo", "datagen demo -o /tmp/datagen-demo --model gpt-4o-mini"],
    "context": [
        "datagen context --coco data/coco --split val2017 -o contexts.jsonl",
        "datagen context --coco data/coco --split val2017 --show 229358 --as-task detail",
        "datagen context --captions-file caps.jsonl --detections dets.json --categories instances.json -o c.jsonl",
    ],
    "generate": [
        "datagen generate llava --coco data/coco --split val2017 --limit 20 -o runs/llava --dry-run",
        "datagen generate conversation --input contexts.jsonl -o runs/conv --model gpt-4o-mini",
        "datagen generate detail --input contexts.jsonl -o runs/detail --base-url http://localhost:8000/v1 --model Qwen2.5-7B-Instruct",
        "datagen generate grounded_qa --coco data/coco --split val2017 -o runs/grounded",
    ],
    "judge": [
        "datagen judge runs/llava -o runs/llava-judged --model gpt-4o",
        "datagen judge --pairwise runs/a runs/b -o runs/a-vs-b --model gpt-4o",
    ],
    "templates list": ["datagen templates list", "datagen templates list --templates-dir my_templates"],
    "templates show": [
        "datagen templates show detail",
        "datagen templates show conversation --templates-dir my_templates",
    ],
    "export llava": [
        "datagen export llava runs/llava -o llava_instruct.json",
        "datagen export llava runs/llava -o out --per-task --exclude-ids rejected-ids.json",
    ],
    "export hf": [
        "datagen export hf runs/llava -o hf/llava --by-task",
        "datagen export hf cc3m/chat.json -o hf/cc3m --default-task cc3m_pretrain --hf-split pretrain",
        "datagen export hf runs/llava -o hf/llava --images data/coco/val2017 --embed-images --push-to-hub me/llava-mini",
    ],
    "export minigpt4": [
        "datagen export minigpt4 runs/rewrite -o minigpt4_stage2 --images cc_sbu/image",
        "datagen export minigpt4 runs/llava --task detail_description -o stage2 --images data/coco/val2017 --link",
    ],
    "": [
        "datagen demo",
        "datagen generate llava --coco data/coco --split val2017 --limit 20 -o runs/llava",
        "datagen review runs/llava --images data/coco/val2017 -o review.html",
        "datagen export llava runs/llava -o llava_instruct.json",
    ],
    "export": [
        "datagen export llava runs/llava -o llava_instruct.json",
        "datagen export hf runs/llava -o hf/llava --by-task",
        "datagen export trl runs/llava -o trl_data --images data/coco/val2017",
    ],
    "cc3m": [
        "datagen cc3m filter Train_GCC-training.tsv -o cc3m595k",
        "datagen cc3m filter Train_GCC-training.tsv -o cc3m595k --shard 0/4",
    ],
    "eval": [
        "datagen eval vqa --results runs/vqa/vqa_results.json --annotations v2_mscoco_val2014_annotations.json",
        "datagen eval vqa --results answers.json --annotations anns.json -o scores.json",
    ],
    "templates": ["datagen templates list", "datagen templates show conversation"],
    "export FORMAT": [
        "datagen export {fmt} runs/llava -o out/{fmt}",
        "datagen export {fmt} runs/llava -o out/{fmt} --task conversation --images data/coco/val2017 --skip-missing-images",
    ],
    "adapt": [
        "datagen adapt llama-factory runs/llava -o data/llava --name llava_mini",
        "datagen adapt trl runs/llava -o trl_data --images data/coco/val2017",
    ],
    "cc3m filter": [
        "datagen cc3m filter Train_GCC-training.tsv -o cc3m595k",
        "datagen cc3m filter Train_GCC-training.tsv -o cc3m595k --shard 0/4",
        "datagen cc3m filter Train_GCC-training.tsv -o cc3m595k --min-freq 3 --max-per-phrase 100 --plot",
    ],
    "review": [
        "datagen review runs/llava --images data/coco/val2017 -o review.html",
        "datagen review runs/llava --images data/coco/val2017 -o review.html --sample 50 --include-failures --embed",
    ],
    "stats": ["datagen stats runs/llava", "datagen stats runs/llava --judge runs/llava-judged --json"],
    "diff": ["datagen diff runs/rewrite", "datagen diff runs/rewrite 000000229358 --plain"],
    "eval vqa": [
        "datagen eval vqa --results runs/vqa/vqa_results.json --annotations v2_mscoco_val2014_annotations.json",
        "datagen eval vqa --results answers.json --annotations anns.json --questions questions.json -o scores.json",
    ],
    "audit": [
        "datagen audit runs/llava --coco data/coco --split val2017 -o audit/llava",
        "datagen audit --compare runs/a runs/b --instances instances_val2017.json -o audit/a-vs-b",
        'datagen audit runs/llava --contexts contexts.jsonl -o audit/llava --fail-on "chair_s>0.2"',
    ],
}


def examples_for(path: str) -> list[str]:
    """The examples of the command or group at `path` ("" is `datagen` itself; "export trl" takes
    the shared `export FORMAT` ones)."""
    if path in EXAMPLES:
        return EXAMPLES[path]
    head, _, fmt = path.partition(" ")
    return [e.format(fmt=fmt) for e in EXAMPLES.get(f"{head} FORMAT", [])] if fmt else []


def all_commands(cmd: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, command) of `cmd` and of every group and command under it ("" for the root)."""
    yield path, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        yield from all_commands(sub, f"{path} {name}".strip())


def panel_for(path: str, option: str) -> str | None:
    for prefix, table in OVERRIDES.items():
        if (path == prefix or path.startswith(prefix + " ")) and option in table:
            return table[option]
    return PANELS.get(option)


def leaf_commands(cmd: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, command) of every command that runs something, e.g. ("export hf", <Command>)."""
    subs = getattr(cmd, "commands", None)
    if not subs:
        yield path, cmd
        return
    for name, sub in subs.items():
        yield from leaf_commands(sub, f"{path} {name}".strip())


def long_name(param: Any) -> str:
    names = [o for o in param.opts if o.startswith("--")]
    return names[0] if names else param.opts[0]


def _paragraphs(text: str) -> str:
    """A docstring's paragraphs with their line breaks made spaces (the terminal wraps them)."""
    paras = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paras)


def first_sentence(text: str) -> str:
    """The first sentence of a help text: the line in the command list, never cut mid-phrase."""
    para = _paragraphs(text).split("\n\n")[0]
    m = re.search(r"[.!?](\s|$)", para)
    return para[: m.start() + 1] if m else para


def _tidy(cmd: Any) -> None:
    # help texts are plain text: brackets such as [x1, y1, x2, y2] must not be read as rich markup
    if cmd.help:
        cmd.short_help = escape(first_sentence(cmd.help))
        cmd.help = escape(_paragraphs(cmd.help))
    for p in cmd.params:
        if getattr(p, "help", None):
            p.help = escape(p.help)
    for sub in (getattr(cmd, "commands", None) or {}).values():
        _tidy(sub)


def decorate(root: Any) -> Any:
    """Panels, examples and the TASK choices on the click tree `root` (returned, changed in place)."""
    from datagen.tasks.registry import choices_text

    _tidy(root)
    for path, cmd in leaf_commands(root):
        options = [p for p in cmd.params if p.param_type_name == "option"]
        if len(options) >= GROUPED_AT:
            for p in options:
                panel = panel_for(path, long_name(p))
                if panel is not None:
                    p.rich_help_panel = panel
        if path == "generate":
            task_arg = next(p for p in cmd.params if p.name == "task")
            task_arg.help = escape(f"One of: {choices_text()}.")
    for path, cmd in all_commands(root):
        lines = examples_for(path)
        if lines:
            cmd.epilog = escape("Examples:\n" + "\n".join(f"  {line}" for line in lines))
    return root
