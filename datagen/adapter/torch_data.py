"""Tokenized training samples from generated records: the last step before a training loop.

`SupervisedDataset` renders each record's conversation (with the tokenizer's chat template, or a
LLaVA-style plain template), tokenizes it once with character offsets, and labels exactly the
tokens that fall inside assistant replies (their end-of-turn marker included, so the model learns
to stop); every other token, including each image token, gets -100. The single `<image>` token is
expanded to as many image tokens as the vision tower produces features, which is what
`LlavaForConditionalGeneration` checks. A sample longer than `max_length` is cut at the end, never
inside the image block; one that cannot keep its whole image block and at least one answer token
is not trained on and is listed in `skipped` with the reason. Needs the `train` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from datagen.errors import ConfigError, InputError
from datagen.export.convert import pairs, to_trl
from datagen.export.images import check_images
from datagen.records import IMAGE_TOKEN

IGNORE_INDEX = -100
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
Span = tuple[int, int]


@dataclass(frozen=True)
class ConversationTemplate:
    """A LLaVA-v1-style plain-text layout: `SYSTEM USER: q ASSISTANT: a</s>USER: ...`."""

    system: str = "A conversation between a user and a helpful assistant that can see images."
    user: str = "USER"
    assistant: str = "ASSISTANT"
    sep: str = " "
    end: str = "</s>"

    def render(self, qa: Sequence[tuple[str, str]]) -> tuple[str, list[Span]]:
        """The conversation text and the character span of each reply (leading space and `end` included)."""
        text = self.system + self.sep if self.system else ""
        spans = []
        for q, a in qa:
            text += f"{self.user}: {q}{self.sep}{self.assistant}:"
            start = len(text)
            text += f" {a}{self.end}"
            spans.append((start, len(text)))
        return text, spans


def render_chat_template(tokenizer: Any, messages: list[dict[str, Any]]) -> tuple[str, list[Span]]:
    """Render with the tokenizer's chat template; a reply's span is what its message adds to the prompt."""
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True)
        upto = tokenizer.apply_chat_template(messages[: i + 1], tokenize=False)
        if not (upto.startswith(prompt) and full.startswith(upto)):
            raise ConfigError(
                "the tokenizer's chat template renders a conversation differently from its prefixes, "
                "so replies cannot be located",
                hint="pass a ConversationTemplate instead",
            )
        spans.append((len(prompt), len(upto)))
    return full, spans


def label_tokens(offsets: Sequence[tuple[int, int]], ids: Sequence[int], spans: Sequence[Span]) -> list[int]:
    """Each token's id if it starts inside a reply span, else IGNORE_INDEX."""
    labels = []
    for (start, end), tid in zip(offsets, ids, strict=True):
        inside = end > start and any(s <= start < e for s, e in spans)
        labels.append(tid if inside else IGNORE_INDEX)
    return labels


def expand_image_token(
    ids: list[int], labels: list[int], image_token_id: int, n: int
) -> tuple[list[int], list[int], Span | None]:
    """Replace the one image token by `n` copies (labels -100); returns the block's [start, end)."""
    where = [i for i, t in enumerate(ids) if t == image_token_id]
    if not where:
        return ids, labels, None
    if len(where) > 1:
        raise InputError(f"{len(where)} image tokens in one sample; expected one")
    i = where[0]
    new_ids = ids[:i] + [image_token_id] * n + ids[i + 1 :]
    new_labels = labels[:i] + [IGNORE_INDEX] * n + labels[i + 1 :]
    return new_ids, new_labels, (i, i + n)


def truncate(ids: list[int], labels: list[int], max_length: int, image: Span | None) -> str | None:
    """Cut `ids`/`labels` in place to `max_length`; returns why the sample is unusable, or None."""
    if len(ids) > max_length:
        if image is not None and image[1] > max_length:
            return f"its image block ends at token {image[1]} > max_length {max_length}"
        del ids[max_length:], labels[max_length:]
    if all(x == IGNORE_INDEX for x in labels):
        return "no answer token left within max_length"
    return None


class ImageTransform:
    """Minimal CLIP-style preprocessing: RGB, resize to size x size, scale to [0, 1], normalise."""

    def __init__(self, size: int, mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD) -> None:
        self.size = size
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        img = image.convert("RGB").resize((self.size, self.size), Image.Resampling.BICUBIC)
        data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
        x = data.view(self.size, self.size, 3).permute(2, 0, 1).float() / 255.0
        return (x - self.mean) / self.std


def llava_image_tokens(config: Any) -> int:
    """How many image features a LLaVA model's vision tower yields per image (its expected token count)."""
    vision = config.vision_config
    n = (vision.image_size // vision.patch_size) ** 2
    return n + 1 if getattr(config, "vision_feature_select_strategy", "default") == "full" else n


class SupervisedDataset(torch.utils.data.Dataset):
    """Records → {input_ids, labels[, pixel_values]} tensors, ready for `Collator`.

    `template`: a `ConversationTemplate`, or None to use the tokenizer's chat template, fed plain
    string contents (`<image>` inline) or, with `content_blocks=True`, TRL-style content lists whose
    image block the template turns into `image_token` itself.
    """

    def __init__(
        self,
        records: list[dict[str, Any]],
        tokenizer: Any,
        *,
        num_image_tokens: int,
        image_root: str | Path | None = None,
        image_transform: Callable[[Image.Image], torch.Tensor] | Any = None,
        template: ConversationTemplate | None = None,
        system: str | None = None,
        max_length: int = 2048,
        image_token: str = IMAGE_TOKEN,
        content_blocks: bool = False,
    ) -> None:
        self.tokenizer = tokenizer
        self.content_blocks = content_blocks
        self.template = template
        self.system = system
        self.image_transform = image_transform
        if template is None and not getattr(tokenizer, "chat_template", None):
            raise ConfigError(
                "the tokenizer has no chat template", hint="pass template=ConversationTemplate()"
            )
        image_id = tokenizer.convert_tokens_to_ids(image_token)
        if image_id is None or image_id == tokenizer.unk_token_id:
            raise ConfigError(
                f"the tokenizer has no '{image_token}' token",
                hint=f"add it: tokenizer.add_special_tokens({{'additional_special_tokens': ['{image_token}']}})",
            )
        self.image_token_id = int(image_id)
        paths: list[Path | None] = [None] * len(records)
        if image_root is not None:
            check = check_images(records, image_root, skip=False)
            paths = check.paths
        elif any(r.get("image") for r in records):
            raise ConfigError("records have images but no image_root was given")
        self.items: list[tuple[list[int], list[int], Path | None]] = []
        self.skipped: list[tuple[str, str]] = []
        for rec, path in zip(records, paths, strict=True):
            ids, labels = self.tokenize(rec)
            ids, labels, block = expand_image_token(ids, labels, self.image_token_id, num_image_tokens)
            if (block is None) != (path is None):
                raise InputError(f"record {rec['id']}: image token and image file do not match")
            why = truncate(ids, labels, max_length, block)
            if why:
                self.skipped.append((str(rec.get("sample_id") or rec["id"]), why))
                continue
            self.items.append((ids, labels, path))

    def tokenize(self, rec: dict[str, Any]) -> tuple[list[int], list[int]]:
        """Token ids and labels of one record, before image expansion and truncation."""
        if self.template is not None:
            text, spans = self.template.render(pairs(rec))
            prefix_bos = self.tokenizer.bos_token_id is not None
        else:
            messages: list[dict[str, Any]] = []
            if self.content_blocks:
                # Templates of vision models (llava-hf, Qwen-VL, Idefics) read content lists and
                # write the image placeholder themselves.
                if self.system:
                    messages.append({"role": "system", "content": [{"type": "text", "text": self.system}]})
                messages += to_trl(rec)
            else:
                if self.system:
                    messages.append({"role": "system", "content": self.system})
                for q, a in pairs(rec):
                    messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            text, spans = render_chat_template(self.tokenizer, messages)
            prefix_bos = False  # chat templates write their own BOS
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        labels = label_tokens(enc["offset_mapping"], ids, spans)
        if prefix_bos:
            ids, labels = [self.tokenizer.bos_token_id, *ids], [IGNORE_INDEX, *labels]
        return ids, labels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids, labels, path = self.items[i]
        item = {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
        }
        if path is not None:
            with Image.open(path) as img:
                item["pixel_values"] = _pixels(self.image_transform, img)
        return item


def _pixels(transform: Any, img: Image.Image) -> torch.Tensor:
    if transform is None:
        raise ConfigError("samples have images but no image_transform was given")
    if hasattr(transform, "preprocess"):  # a transformers image processor
        return transform(images=img.convert("RGB"), return_tensors="pt")["pixel_values"][0]
    return transform(img)


@dataclass
class Collator:
    """Right-pads a batch (labels with -100, attention 0) and stacks the images in sample order."""

    pad_token_id: int

    def __call__(self, batch: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[row, :n], labels[row, :n], mask[row, :n] = b["input_ids"], b["labels"], 1
        out = {"input_ids": ids, "attention_mask": mask, "labels": labels}
        pixels = [b["pixel_values"] for b in batch if "pixel_values" in b]
        if pixels:
            out["pixel_values"] = torch.stack(pixels)
        return out
