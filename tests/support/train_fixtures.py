"""A tiny word-level tokenizer built in the test (no downloads) for the training-API tests."""

from __future__ import annotations

import re
from typing import Any

SPECIALS = ["<unk>", "<pad>", "<s>", "</s>", "<image>", "<|im_start|>", "<|im_end|>"]
# ChatML-style template: prompts are prefixes of the full rendering, as render_chat_template needs.
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# A vision-model style template over content lists: image blocks become "<image>\n" before the text.
BLOCKS = (
    "{% for m in messages %}{{ m['role'] | upper }}: "
    "{% for c in m['content'] if c['type'] == 'image' %}<image>\n{% endfor %}"
    "{% for c in m['content'] if c['type'] == 'text' %}{{ c['text'] }}{% endfor %}"
    "{% if m['role'] == 'assistant' %}</s>{% else %} {% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT: {% endif %}"
)
_WORD = re.compile(r"\w+|[^\w\s]+")


def build_tokenizer(texts: list[str]) -> Any:
    """A fast tokenizer whose vocabulary is every word/punctuation run in `texts` plus the specials."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words: dict[str, int] = {s: i for i, s in enumerate(SPECIALS)}
    for text in texts:
        for special in SPECIALS:
            text = text.replace(special, " ")
        for w in _WORD.findall(text):
            words.setdefault(w, len(words))
    tok = Tokenizer(models.WordLevel(words, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(SPECIALS)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )
    hf.chat_template = CHATML
    return hf


def vocabulary_texts(records: list[dict[str, Any]]) -> list[str]:
    """Every text a tokenizer for `records` must know: their turns, the default system prompt, the roles."""
    from datagen.adapter.torch_data import ConversationTemplate

    return [t["value"] for r in records for t in r["conversations"]] + [
        ConversationTemplate().system,
        "USER ASSISTANT",
    ]


def ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
