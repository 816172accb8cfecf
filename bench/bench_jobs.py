"""The chat jobs every engine benchmark sends: a long system prompt, three few-shot rounds, one context."""

from __future__ import annotations

from datagen.tasks.base import Job

SYSTEM = "You write one question and one answer about an image you are told about in text. " * 6
FEWSHOT = [
    {
        "role": "user",
        "content": "A man rides a bicycle down a busy city street.\n\nperson: [0.1, 0.2, 0.5, 0.9]",
    },
    {
        "role": "assistant",
        "content": "Q: What is the man riding?\nA: He is riding a bicycle along the street.",
    },
] * 3


def make_jobs(n: int, offset: int = 0) -> list[Job]:
    out = []
    for i in range(offset, offset + n):
        sid = f"{i:012d}"
        ctx = f"sample {sid} A cat sleeps on a red sofa next to a lamp.\n\ncat: [0.2, 0.3, 0.6, 0.8]"
        out.append(
            Job(
                sample_id=f"echo_qa:{sid}",
                task="echo_qa",
                messages=[{"role": "system", "content": SYSTEM}, *FEWSHOT, {"role": "user", "content": ctx}],
                source={"id": sid, "image": f"{sid}.jpg"},
                template_hash="t0",
                max_tokens=256,
            )
        )
    return out
