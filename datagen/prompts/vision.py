"""What a vision-language request adds to the text prompt: the options, and the message parts.

`VisionOptions` is `--image-input none|base64|url` with its settings. With `none` (the default)
nothing changes: the request is LLaVA's text-only recipe byte for byte. Otherwise a user message
that carries an image becomes a list of two content parts, the image first and then the text
exactly as the text-only recipe has it:

    {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,...", "detail": "low"}},
        {"type": "text", "text": "<the symbolic context, unchanged>"}]}

The image goes first because that is where the chat templates of the open VLMs (Qwen2.5-VL,
InternVL, LLaVA-OneVision) put it and how they were trained; OpenAI's models read either order.
Few-shot messages stay text unless the template folder holds an image for the example
(`NNN.jpg` beside `NNN_caps.txt`); the system message never carries one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datagen.errors import UsageError
from datagen.prompts.images import FORMATS, EncodeSpec

MODES = ("none", "base64", "url")
DETAILS = ("low", "high", "auto")


@dataclass(frozen=True)
class VisionOptions:
    """How (and whether) each request shows the model its image; recorded in run.json."""

    mode: str = "none"  # --image-input
    images: str | None = None  # --images: the folder the records' `image` names are under
    url_prefix: str | None = None  # --image-url-prefix (url mode): prefix + the record's image name
    max_side: int | None = None  # --image-max-side: shrink so the longer side is at most this
    format: str = "jpeg"  # --image-format
    quality: int = 85  # --image-quality (jpeg, webp)
    detail: str | None = None  # --image-detail; None: the field is not sent (server default)
    image_tokens: int | None = None  # --image-tokens: prompt tokens per image, instead of our estimate

    @property
    def on(self) -> bool:
        return self.mode != "none"

    def check(self) -> None:
        """One-line usage errors before anything is read or sent."""
        if self.mode not in MODES:
            raise UsageError(f"--image-input {self.mode!r} is not one of {', '.join(MODES)}")
        if self.format not in FORMATS:
            raise UsageError(f"--image-format {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.detail is not None and self.detail not in DETAILS:
            raise UsageError(f"--image-detail {self.detail!r} is not one of {', '.join(DETAILS)}")
        if not 1 <= self.quality <= 100:
            raise UsageError(f"--image-quality must be 1..100, got {self.quality}")
        if self.max_side is not None and self.max_side < 16:
            raise UsageError(f"--image-max-side must be at least 16 pixels, got {self.max_side}")
        if self.image_tokens is not None and self.image_tokens < 0:
            raise UsageError(f"--image-tokens must be 0 or more, got {self.image_tokens}")
        if self.mode == "url" and not self.url_prefix:
            raise UsageError(
                "--image-input url needs --image-url-prefix",
                hint="e.g. --image-url-prefix http://images.cocodataset.org/val2017/",
            )
        if self.mode != "url" and self.url_prefix:
            raise UsageError("--image-url-prefix only applies with --image-input url")
        if self.mode == "none":
            given = [
                flag
                for flag, value in (
                    ("--image-max-side", self.max_side),
                    ("--image-detail", self.detail),
                    ("--image-tokens", self.image_tokens),
                )
                if value is not None
            ]
            if given:
                raise UsageError(
                    f"{', '.join(given)} only apply when the model sees the image",
                    hint="add --image-input base64 (or url)",
                )

    def encode_spec(self) -> EncodeSpec:
        return EncodeSpec(format=self.format, quality=self.quality, max_side=self.max_side)

    def url_for(self, name: str) -> str:
        return f"{self.url_prefix or ''}{name.lstrip('/')}"

    def key_text(self) -> str:
        """The options every image request key includes (the per-image facts, with the quality
        of a re-encoded image, come on top)."""
        if self.mode == "url":
            return f"url\x1f{self.detail}"
        return f"{self.mode}\x1f{self.format}\x1f{self.detail}"


def image_part(url: str, detail: str | None) -> dict[str, Any]:
    """One OpenAI `image_url` content part (`detail` left out when None)."""
    inner: dict[str, Any] = {"url": url}
    if detail is not None:
        inner["detail"] = detail
    return {"type": "image_url", "image_url": inner}


def with_images(messages: list[dict[str, Any]], parts: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with the image part `parts[i]` put before the text of message i. Messages
    without an image are the very same objects; the text part is the original string."""
    if not parts:
        return messages
    out = list(messages)
    for i, part in parts.items():
        m = messages[i]
        out[i] = {**m, "content": [part, {"type": "text", "text": m["content"]}]}
    return out


def text_of(content: Any) -> str:
    """The text of a message's content, whether a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")
