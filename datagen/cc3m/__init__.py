"""CC3M concept-balanced filtering (the LLaVA-CC3M-Pretrain-595K recipe), step by step.

`reader` turns the input file into `(row, caption, url)` with counted skips, `nounphrases` turns
captions into normalised noun-phrase sets with spaCy, `cache` stores those sets in resumable chunks,
`select` picks the concept-balanced pool, `output` writes chat.json / metadata.json / stats.json,
and `pipeline` runs the steps in order. See docs/cc3m.md for the algorithm and every choice made.
"""
