"""Know what a data set says: `datagen audit`'s checks over finished samples.

inputs (run dirs, LLaVA JSON, HF datasets) → ground truth (COCO instances, contexts, a run's source)
→ one pass of every check: object hallucination against COCO labels (CHAIR), grounding claims
(boxes, counts), format hygiene (the generation filters' own rules), near-duplicates (MinHash LSH)
and balance → `audit.json`, `flags.jsonl`, `report.html`; `compare` puts two audits side by side.
"""
