"""Step 1 of the flow: read what describes each image (COCO captions and boxes, `--input` rows,
a captioner's captions, a detector's boxes) into context records (`records.py` names the fields).

`load.load_contexts(SourceSpec)` is the entry point; each reader records what it skipped and why."""
