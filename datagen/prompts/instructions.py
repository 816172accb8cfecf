"""Instruction lists: the questions a sample's human turn is drawn from when the model only writes
the answer (detail descriptions, caption rewrites, CC3M's brief-description instructions).

One rule for every list file (task.toml's, `--instructions`, CC3M's): one instruction per
non-blank line, `#` lines are comments, a leading BOM is ignored. Draws are seeded per sample.
"""

from __future__ import annotations

import random
from pathlib import Path

from datagen.errors import InputError
from datagen.records import placement_rng


def instruction_lines(text: str) -> list[str]:
    """The instructions in an instruction list file's text: one per non-blank line, `#` lines are
    comments, a leading BOM is ignored. The one rule for every list (task.toml's, --instructions,
    CC3M's brief instructions)."""
    lines = [ln.strip() for ln in text.removeprefix("\ufeff").splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def load_instructions(path: str | Path) -> list[str]:
    """A user's instruction list file (`--instructions`): see `instruction_lines`."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such instruction list", hint="check the --instructions path") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, expected an instruction list file") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text", hint="re-save the instruction list as UTF-8") from None
    items = instruction_lines(raw)
    if not items:
        raise InputError(
            f"{p}: no instructions in the list (only blank or # lines)", hint="put one instruction per line"
        )
    return items


def pick_instruction(instructions: list[str], seed: int, sample_id: str) -> str:
    """The instruction for one sample: seeded per sample, so it does not depend on run order.

    The RNG key is suffixed so this draw is independent of the `<image>` placement draw that
    `records.placement_rng(seed, sample_id)` makes for the same sample.
    """
    rng: random.Random = placement_rng(seed, f"{sample_id}#instruction")
    return instructions[rng.randrange(len(instructions))]
