"""Audit check: near-duplicate samples across every input, as clusters.

Each sample's model text is shingled and signed in batches (`tasks/neardup.py`: datasketch's
affine32 MinHash, computed with numpy), indexed in datasketch's `MinHashLSH`, and then every LSH
bucket is read once: a bucket member joins the bucket's first member's cluster when their estimated
Jaccard similarity reaches the threshold (union-find). Reading buckets instead of querying every
sample keeps the pass linear in the number of samples even when thousands share one text.

`near_dup` = samples beyond the first of their cluster / all samples: the share a keep-one-per-
cluster deduplication would remove.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from datagen.tasks.neardup import SEED, MinHashSpec, Signer, require_datasketch

_BATCH = 2_000


class NearDuplicates:
    def __init__(self, spec: MinHashSpec, n_samples: int) -> None:
        ds = require_datasketch()
        self.spec = spec
        self.signer = Signer(spec)
        self.lsh = ds.MinHashLSH(threshold=spec.threshold, num_perm=spec.num_perm)
        self._lean = ds.LeanMinHash
        self.sigs = np.zeros((n_samples, spec.num_perm), dtype=np.uint32)
        self.has_text = np.zeros(n_samples, dtype=bool)
        self._pending: list[tuple[int, np.ndarray]] = []

    def add(self, uid: int, tokens: list[str]) -> None:
        """One sample's model-text tokens (all its answers, in order)."""
        if tokens:
            self._pending.append((uid, self.signer.shingle_hashes(self.signer.ids(tokens))))
            if len(self._pending) >= _BATCH:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        uids = [u for u, _ in self._pending]
        sigs = self.signer.signatures([s for _, s in self._pending])
        self.sigs[uids] = sigs
        self.has_text[uids] = True
        with self.lsh.insertion_session() as session:
            for uid, sig in zip(uids, sigs, strict=True):
                session.insert(
                    uid, self._lean(seed=SEED, hashvalues=sig, scheme="affine32"), check_duplication=False
                )
        self._pending = []

    def clusters(self) -> list[list[int]]:
        """Clusters of two or more samples, biggest first; members in input order."""
        self._flush()
        parent = list(range(len(self.sigs)))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        t = self.spec.threshold
        for table in self.lsh.hashtables:
            for bucket in table.keys():  # noqa: SIM118 (a datasketch storage, not a dict)
                members = table.get(bucket)
                if len(members) < 2:
                    continue
                ordered = sorted(members)
                head, rest = ordered[0], np.array(ordered[1:])
                sims = (self.sigs[rest] == self.sigs[head]).mean(axis=1)
                root = find(head)
                for other in rest[sims >= t].tolist():
                    r = find(other)
                    if r != root:
                        parent[max(r, root)] = min(r, root)
                        root = min(r, root)
        groups: dict[int, list[int]] = defaultdict(list)
        for uid in np.flatnonzero(self.has_text).tolist():
            groups[find(uid)].append(uid)
        found = [sorted(g) for g in groups.values() if len(g) > 1]
        found.sort(key=lambda g: (-len(g), g[0]))
        return found

    def similarity(self, a: int, b: int) -> float:
        return float(np.mean(self.sigs[a] == self.sigs[b]))


def summary(clusters: list[list[int]], n_samples: int) -> dict[str, Any]:
    redundant = sum(len(c) - 1 for c in clusters)
    return {
        "near_dup": round(redundant / n_samples, 4) if n_samples else None,
        "clusters": len(clusters),
        "samples_in_clusters": sum(len(c) for c in clusters),
        "redundant_samples": redundant,
        "largest_cluster": len(clusters[0]) if clusters else 0,
    }
