"""Few-shot template folders → the chat messages a task sends (LLaVA's published layout).

A task folder holds `system_message.txt` and numbered pairs `000_caps.txt` (an example context,
sent as a user message) / `000_conv.txt` (the answer we want, sent as an assistant message), used in
numeric order and byte for byte. That is the layout of LLaVA's `playground/data/prompts/<task>/`,
so `--templates-dir` can point at those folders unchanged. An optional `task.toml` says what the
layout cannot: which context fields to show, the reply parser, an instruction list, max_tokens.
A folder without `task.toml` inherits the bundled defaults of the task with the same name.

`render()` is the one string-substitution helper: `{{name}}` placeholders, everything else (single
braces, `$`, quotes, newlines) left alone, values inserted once and never re-expanded, and every
missing variable named in one error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.resources import templates_root
from datagen.errors import TemplateError
from datagen.prompts.instructions import instruction_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SYSTEM_FILE = "system_message.txt"
CONFIG_FILE = "task.toml"
_PAIR_RE = re.compile(r"^(\d+)_(caps|conv)\.txt$")
# An example's own image (shown with its context when the run sends images): `NNN.jpg` etc.
_IMAGE_RE = re.compile(r"^(\d+)\.(jpe?g|png|webp)$", re.IGNORECASE)
_VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_CONFIG_KEYS = {"description", "context", "parser", "instructions", "max_tokens", "temperature"}


@dataclass(frozen=True)
class TaskTemplate:
    """A loaded task folder: system message, few-shot pairs, settings, and a hash of all of it."""

    task: str
    folder: Path
    system: str
    examples: list[tuple[str, str]]
    config: dict[str, Any] = field(default_factory=dict)
    instructions: list[str] = field(default_factory=list)
    hash: str = ""
    example_images: tuple[Path | None, ...] = ()  # per example: its NNN.jpg, if the folder has one

    @property
    def context_fields(self) -> list[str]:
        return list(self.config.get("context", ["captions", "boxes"]))

    @property
    def max_tokens(self) -> int | None:
        v = self.config.get("max_tokens")
        return int(v) if v is not None else None

    @functools.cached_property
    def _prefix(self) -> tuple[dict[str, str], ...]:
        msgs = [{"role": "system", "content": self.system}]
        for caps, conv in self.examples:
            msgs.append({"role": "user", "content": caps})
            msgs.append({"role": "assistant", "content": conv})
        return tuple(msgs)

    def messages(self, context: str) -> list[dict[str, str]]:
        """system, (user = example context, assistant = example answer) per pair, final user = context.

        The messages before the last are the same dicts in every job of the template (a run over
        COCO train2017 holds 350K jobs; read them, do not change them)."""
        return [*self._prefix, {"role": "user", "content": context}]

    def image_slots(self, shots: int | None = None) -> tuple[tuple[int, str], ...]:
        """(message index, image file) of the examples that have an image, in `messages()`'s
        layout (system first, then user/assistant per example); `shots` = examples used."""
        imgs = self.example_images[:shots] if shots is not None else self.example_images
        return tuple((1 + 2 * i, str(p)) for i, p in enumerate(imgs) if p is not None)


def render(template: str, values: dict[str, Any], *, where: str = "template") -> str:
    """Replace `{{name}}` placeholders with `values[name]`; every missing name is reported at once."""
    missing = sorted({m.group(1) for m in _VAR_RE.finditer(template) if m.group(1) not in values})
    if missing:
        raise TemplateError(
            f"{where}: no value for {', '.join('{{' + m + '}}' for m in missing)}",
            hint=f"available: {', '.join(sorted(values)) or 'none'}",
        )
    return _VAR_RE.sub(lambda m: str(values[m.group(1)]), template)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise TemplateError(f"{path}: not UTF-8 text (byte {e.start})", hint="re-save it as UTF-8") from None
    except OSError as e:
        raise TemplateError(f"{path}: cannot read ({e.strerror})") from None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        cfg = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as e:
        raise TemplateError(f"{path}: not valid TOML ({e})") from None
    unknown = set(cfg) - _CONFIG_KEYS
    if unknown:
        raise TemplateError(
            f"{path}: unknown setting(s) {', '.join(sorted(unknown))}",
            hint=f"known: {', '.join(sorted(_CONFIG_KEYS))}",
        )
    ctx = cfg.get("context")
    if ctx is not None and (
        not isinstance(ctx, list) or not ctx or any(c not in ("captions", "boxes") for c in ctx)
    ):
        raise TemplateError(f'{path}: \'context\' must be a non-empty list of "captions" / "boxes"')
    if "max_tokens" in cfg and (not isinstance(cfg["max_tokens"], int) or cfg["max_tokens"] <= 0):
        raise TemplateError(f"{path}: 'max_tokens' must be a positive integer")
    # Relative file settings are resolved against the folder holding this task.toml.
    if isinstance(cfg.get("instructions"), str):
        cfg["instructions"] = str(path.parent / cfg["instructions"])
    return cfg


def _example_images(folder: Path, numbers: list[int]) -> tuple[Path | None, ...]:
    """Each example's image (`NNN.jpg`/`.jpeg`/`.png`/`.webp` beside `NNN_caps.txt`), else None."""
    found: dict[int, Path] = {}
    for p in folder.iterdir():
        m = _IMAGE_RE.match(p.name)
        if m and p.is_file():
            n = int(m.group(1))
            if n in found:
                raise TemplateError(f"{folder}: two images for example {n:03d} ({found[n].name}, {p.name})")
            found[n] = p
    stray = sorted(set(found) - set(numbers))
    if stray:
        raise TemplateError(f"{folder}: {found[stray[0]].name} has no {stray[0]:03d}_caps.txt beside it")
    return tuple(found.get(n) for n in numbers) if found else ()


def _pair_numbers(folder: Path) -> list[int]:
    return sorted(
        {int(m.group(1)) for p in folder.iterdir() if (m := _PAIR_RE.match(p.name)) and p.is_file()}
    )


def _read_pairs(folder: Path) -> list[tuple[str, str]]:
    found: dict[int, dict[str, Path]] = {}
    for p in folder.iterdir():
        m = _PAIR_RE.match(p.name)
        if m and p.is_file():
            found.setdefault(int(m.group(1)), {})[m.group(2)] = p
    pairs = []
    for n in sorted(found):
        parts = found[n]
        for kind in ("caps", "conv"):
            if kind not in parts:
                other = next(iter(parts.values())).name
                raise TemplateError(
                    f"{folder}: {other} has no matching {n:03d}_{kind}.txt",
                    hint="few-shot examples come in NNN_caps.txt / NNN_conv.txt pairs",
                )
        pairs.append((_read_text(parts["caps"]), _read_text(parts["conv"])))
    return pairs


def _read_instructions(path_str: str) -> list[str]:
    path = Path(path_str)
    if not path.is_file():
        raise TemplateError(f"{path}: instruction list not found", hint="fix 'instructions' in task.toml")
    lines = instruction_lines(_read_text(path))
    if not lines:
        raise TemplateError(f"{path}: instruction list is empty", hint="put one instruction per line")
    return lines


def template_hash(
    system: str,
    examples: list[tuple[str, str]],
    config: dict[str, Any],
    instr: list[str],
    images: tuple[Path | None, ...] = (),
) -> str:
    """16 hex chars over everything that shapes the prompt (not the folder's location); the
    examples' images count by their bytes, and only when the folder has some."""
    cfg = {k: v for k, v in config.items() if k not in ("instructions", "description")}
    parts: list[Any] = [system, examples, cfg, instr]
    if any(p is not None for p in images):
        parts.append([hashlib.sha256(p.read_bytes()).hexdigest() if p else None for p in images])
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def task_folder(task: str, templates_dir: str | Path | None = None) -> Path:
    """The folder for `task` under `templates_dir` (or our bundled templates), checked to exist."""
    base = Path(templates_dir) if templates_dir is not None else templates_root()
    if not base.is_dir():
        raise TemplateError(
            f"{base}: no such templates folder",
            hint="--templates-dir takes a folder with one subfolder per task",
        )
    folder = base / task
    if not (folder / SYSTEM_FILE).is_file():
        subs = sorted(p.name for p in base.iterdir() if (p / SYSTEM_FILE).is_file())
        hint = f"task folders there: {', '.join(subs) or 'none'}"
        if (base / SYSTEM_FILE).is_file():
            hint = f"{base} looks like a single task's folder; pass its parent folder instead"
        raise TemplateError(f"{folder}: no {SYSTEM_FILE} for task '{task}'", hint=hint)
    return folder


def load_template(task: str, templates_dir: str | Path | None = None) -> TaskTemplate:
    """Load `task`'s folder; settings come from its task.toml, else from our bundled folder's."""
    folder = task_folder(task, templates_dir)
    system = _read_text(folder / SYSTEM_FILE)
    if not system.strip():
        raise TemplateError(f"{folder / SYSTEM_FILE}: is empty")
    examples = _read_pairs(folder)
    config: dict[str, Any] = {}
    own = folder / CONFIG_FILE
    bundled = templates_root() / task / CONFIG_FILE
    if own.is_file():
        config = _read_config(own)
    elif bundled.is_file():
        config = _read_config(bundled)
    instructions = _read_instructions(config["instructions"]) if config.get("instructions") else []
    images = _example_images(folder, _pair_numbers(folder))
    return TaskTemplate(
        task=task,
        folder=folder,
        system=system,
        examples=examples,
        config=config,
        instructions=instructions,
        hash=template_hash(system, examples, config, instructions, images),
        example_images=images,
    )


def list_templates(templates_dir: str | Path | None = None) -> list[str]:
    """Task names that have a template folder under `templates_dir` (or the bundled templates)."""
    base = Path(templates_dir) if templates_dir is not None else templates_root()
    if not base.is_dir():
        raise TemplateError(f"{base}: no such templates folder")
    return sorted(p.name for p in base.iterdir() if (p / SYSTEM_FILE).is_file())
