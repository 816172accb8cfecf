"""Helpers shared by the context/template/dry-run tests: the LLaVA task names, the exact symbolic
context of one real COCO image, and a template folder in LLaVA's published layout."""

from __future__ import annotations

from pathlib import Path

TASKS = ("conversation", "detail_description", "complex_reasoning")

# COCO val2017 image 229358 (640x423): its five captions in file order, then its ten instances.
# Box arithmetic, e.g. the person [464.46, 0.0, 175.54, 423.0]:
#   x1 = 464.46/640 = 0.72571.. -> 0.726, y1 = 0/423 = 0.0, x2 = 640/640 = 1.0, y2 = 423/423 = 1.0
# and the bottle [198.7, 75.65, 17.09, 43.3]:
#   198.7/640 = 0.31046.. -> 0.31, 75.65/423 = 0.17884.. -> 0.179,
#   215.79/640 = 0.33717.. -> 0.337, 118.95/423 = 0.28120.. -> 0.281
EXPECTED_229358 = """A man standing in front of a mirror in a room.
A man standing in front of a bathroom mirror and a sink.
A man is looking at himself in the mirror.
A man in a bathroom looking at himself in the mirror.
A man holds an object as he looks at himself in the mirror.

bottle: [0.31, 0.179, 0.337, 0.281]
tie: [0.467, 0.404, 0.486, 0.571]
tie: [0.733, 0.001, 0.775, 0.363]
person: [0.424, 0.226, 0.591, 0.575]
person: [0.726, 0.0, 1.0, 1.0]
cup: [0.706, 0.763, 0.754, 0.854]
sink: [0.478, 0.852, 0.869, 0.995]
bowl: [0.641, 0.711, 0.716, 0.748]
cell phone: [0.525, 0.356, 0.554, 0.406]
toothbrush: [0.578, 0.662, 0.612, 0.854]"""


def make_llava_layout(root: Path) -> Path:
    """A `playground/data/prompts`-style folder: no task.toml, files without trailing newlines."""
    for task in TASKS:
        d = root / task
        d.mkdir(parents=True)
        (d / "system_message.txt").write_bytes(
            f"System for {task}: use {{braces}} and $dollars as-is.".encode()
        )
        for n in (0, 1):
            (d / f"{n:03d}_caps.txt").write_bytes(
                f"caps {n} of {task}\n\nperson: [0.1, 0.2, 0.3, 0.4]".encode()
            )
            (d / f"{n:03d}_conv.txt").write_bytes(f"Question:\nq{n}?\n===\nAnswer:\na{n}.".encode())
    return root
