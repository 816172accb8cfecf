"""Audit step 3: one pass over the samples running every check, tallied per group.

Each sample's text is tokenized once; the tokens feed the object matcher (CHAIR, count claims),
the balance figures and the near-duplicate signatures. Groups are `overall`, `task:<name>`,
`input:<path>` and `model:<name>`; every sample is in one group of each kind. The per-sample
outcome becomes one line of `flags.jsonl`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from datagen.audit import chair
from datagen.audit.balance import Balance
from datagen.audit.grounding import box_claims, count_claims
from datagen.audit.hygiene import hygiene_problems, problem_kind
from datagen.audit.inputs import Sample, turns
from datagen.audit.neardup import NearDuplicates
from datagen.audit.truth import TruthIndex
from datagen.tasks.neardup import MinHashSpec
from datagen.tasks.objects.mentions import mentions_in, tokenize

OVERALL = "overall"
_QUESTION_CHARS = 80  # question types need the first words only


@dataclass
class Collected:
    groups: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    flags: list[dict[str, Any]] = field(default_factory=list)
    hallucinated: Counter[str] = field(default_factory=Counter)  # category -> samples naming it absent
    hallucinated_words: Counter[str] = field(default_factory=Counter)
    hygiene_kinds: Counter[str] = field(default_factory=Counter)
    clusters: list[list[int]] = field(default_factory=list)
    balance: Balance | None = None
    neardup: NearDuplicates | None = None


def _objects(flag: dict[str, Any], mentions: list, texts: list[str], truth: Any, c: Counter[str]) -> None:
    if truth is None:
        flag["truth"] = "no_truth"
        c["no_truth"] += 1
        return
    if not truth.checkable:
        flag["truth"] = "not_checkable"
        c["not_checkable"] += 1
        return
    flag["truth"] = "ok"
    found = chair.object_finding(mentions, truth)
    chair.tally(c, found)
    flag["objects"] = {"named": found.named, "negated": found.negated, "absent": found.absent}
    counts = count_claims(mentions, truth)
    boxes = [b for t in texts for b in box_claims(t, truth)]
    if counts:
        flag["counts"] = counts
        c["count_claims"] += sum(1 for x in counts if x["verdict"] != "unknown_count")
        c["count_wrong"] += sum(1 for x in counts if x["verdict"] == "wrong")
        c["with_count_wrong"] += 1 if any(x["verdict"] == "wrong" for x in counts) else 0
    if boxes:
        flag["boxes"] = boxes
        c["box_claims"] += sum(1 for x in boxes if x["verdict"] in ("ok", "unmatched", "malformed"))
        c["box_unmatched"] += sum(1 for x in boxes if x["verdict"] in ("unmatched", "malformed"))


Checked = tuple[dict[str, Any], Counter[str], list[list[str]], list[list[str]]]


def check_sample(s: Sample, truth: TruthIndex) -> Checked:
    """The per-sample checks (object mentions against the truth, counts, boxes, hygiene): its
    `flags.jsonl` line, its tallies, and the human / model tokens the run-wide passes need."""
    human, model = turns(s.record)
    tokens = [tokenize(t) for t in model]
    mentions = [m for tok in tokens for m in mentions_in(tok)]
    c: Counter[str] = Counter(samples=1)
    flag: dict[str, Any] = {"uid": s.uid, "input": s.input, "key": s.key, "id": s.id, "image": s.image,
                            "task": s.task, "model": s.model}  # fmt: skip
    _objects(flag, mentions, model, truth.lookup(s), c)
    problems = hygiene_problems(s.record, s.task, s.key)
    if problems:
        flag["hygiene"] = problems
        c["with_hygiene"] += 1
        for p in problems:
            c[f"hygiene:{problem_kind(p).split(':', 1)[0]}"] += 1
    return flag, c, [tokenize(h[:_QUESTION_CHARS]) for h in human], tokens


def collect(
    samples: list[Sample],
    truth: TruthIndex,
    spec: MinHashSpec,
    seed: int = 0,
    checked: Iterable[Checked] | None = None,
) -> Collected:
    """Every check over `samples`; `checked` gives the per-sample checks already made (in sample
    order, e.g. by Ray workers: `ray_collect.py`), else they are made here."""
    out = Collected(balance=Balance(len(samples), seed), neardup=NearDuplicates(spec, len(samples)))
    assert out.balance is not None and out.neardup is not None
    flags, balance, neardup = out.flags, out.balance, out.neardup
    # Tallied per (task, input, model) and spread into the groups at the end: one update per sample.
    combos: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    per_sample = checked if checked is not None else (check_sample(s, truth) for s in samples)
    for s, (flag, c, human_tokens, tokens) in zip(samples, per_sample, strict=True):
        objects = flag.get("objects")
        if objects:
            for cat in objects["absent"]:
                out.hallucinated[cat] += 1
                out.hallucinated_words.update(objects["named"][cat])
        for p in flag.get("hygiene", ()):
            out.hygiene_kinds[problem_kind(p)] += 1
        balance.add(s.uid, s.task, human_tokens, tokens)
        neardup.add(s.uid, [t for tok in tokens for t in tok])
        combos[(s.task, s.input, s.model)].update(c)
        flags.append(flag)
    out.clusters = neardup.clusters()
    for number, members in enumerate(out.clusters):
        head = members[0]
        for uid in members:
            flags[uid]["near_dup"] = {"cluster": number, "size": len(members), "first": samples[head].key}
            if uid != head:
                flags[uid]["near_dup"]["similarity"] = round(neardup.similarity(head, uid), 3)
                other = samples[uid]
                combos[(other.task, other.input, other.model)]["redundant"] += 1
    for (task, input_, model_name), c in combos.items():
        for g in (OVERALL, f"task:{task}", f"input:{input_}", f"model:{model_name}"):
            out.groups[g].update(c)
    return out
