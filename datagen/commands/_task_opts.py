"""`generate` options of the task families (caption_rewrite's input, the grounded / VQA settings).

Each flag's name is a field of one task family's options dataclass (`--min-words` →
`RewriteOptions.min_words`); the engine matches them by name (`engine.options.family_options`), so
adding a task option is one field there, one declaration here plus its name in `TASK_FLAGS`, and
one parameter of `generate()` in commands/generate.py (typer reads options from the signature).
Unset flags stay None and keep the task's default.
"""

from __future__ import annotations

import typer

DESCRIPTIONS = typer.Option(
    None,
    "--descriptions",
    help="caption_rewrite: descriptions to clean (.jsonl, .json array or MiniGPT-4 filter_cap.json, .csv/.tsv).",
)

FROM_RUN = typer.Option(
    None, "--from-run", help="caption_rewrite: rewrite the detail descriptions of an earlier run directory."
)

ID_FIELD = typer.Option(
    None, "--id-field", show_default="image_id, image or id", help="caption_rewrite: id column."
)

TEXT_FIELD = typer.Option(
    None, "--text-field", show_default="caption or description", help="caption_rewrite: text column."
)

MIN_WORDS = typer.Option(
    None,
    "--min-words",
    min=0,
    show_default="10",
    help="caption_rewrite: report descriptions under N words instead of sending them.",
)

MIN_RATIO = typer.Option(
    None,
    "--min-ratio",
    min=0.0,
    max=1.0,
    show_default="0.5",
    help="caption_rewrite: reject rewrites keeping less than this share of the source's distinct content words.",
)

QUESTIONS = typer.Option(
    None,
    "--questions",
    help="vqa_answer: VQA v2 / OK-VQA questions JSON to answer (required for vqa_answer).",
)

EXAMPLES = typer.Option(
    None,
    "--examples",
    help="vqa_answer: pool of {context, question, answer} examples (JSONL/JSON, e.g. an img2llm_qa "
    "run's vqa_examples.jsonl); shots are the most similar ones.",
    show_default="the template's own examples",
)

CAPTIONS_FROM = typer.Option(
    None,
    "--captions-from",
    help="vqa_answer: answer from the question-focused captions of a question_caption run directory "
    "(PNP-VQA); each question's caption comes first in its context.",
)

SHOTS = typer.Option(
    None, "--shots", min=0, show_default="4", help="vqa_answer: in-context examples per question."
)

MARGIN = typer.Option(
    None,
    "--margin",
    min=0.0,
    max=0.99,
    show_default="0.1",
    help="grounded_qa: min distance between box centres (fraction of image size) for left/right/above/below.",
)

MAX_QUESTIONS = typer.Option(
    None,
    "--max-questions",
    min=1,
    show_default="grounded_qa 6, img2llm_qa 5",
    help="grounded_qa: questions per image; img2llm_qa: answer candidates per image.",
)

MIN_REGION = typer.Option(
    None,
    "--min-region",
    min=0.0,
    max=0.99,
    show_default="0.01",
    help="grounded_qa: min box area (fraction of the image) for 'what is in this region?'.",
)

NEGATIVES = typer.Option(
    None,
    "--negatives/--no-negatives",
    help="grounded_qa: also ask about categories absent from the image (answer 'No').",
)


# Every flag above, by the field name it fills; `generate` passes exactly these on.
TASK_FLAGS = (
    "descriptions", "from_run", "id_field", "text_field", "min_words", "min_ratio",
    "questions", "examples", "shots", "captions_from", "margin", "max_questions", "min_region", "negatives",
)  # fmt: skip
