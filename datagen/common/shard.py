"""`--shard K/N`: one convention for every command that splits work across machines.

K counts from 0 (like a Slurm array's `SLURM_ARRAY_TASK_ID` with `--array=0-N-1`), so `0/4 .. 3/4`
are the four shards. `generate` assigns samples by a stable hash of their id; `cc3m filter`
assigns extraction chunks round-robin.
"""

from __future__ import annotations

import hashlib

from datagen.errors import UsageError


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`"K/N"` → `(K, N)` with 0 <= K < N; a one-line UsageError for anything else."""
    if not text:
        return None
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected K/N, e.g. 0/4") from None
    if n < 1 or not 0 <= k < n:
        raise UsageError(f"--shard {text}: need N >= 1 and K in 0..N-1 (shards are numbered from 0)")
    return k, n


def in_shard(sample_id: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic (not Python's salted hash): the same sample lands in the same shard everywhere."""
    if shard is None:
        return True
    digest = hashlib.blake2b(sample_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard[1] == shard[0]
