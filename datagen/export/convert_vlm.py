"""One LLaVA record → one row of each newer VLM trainer's format (no I/O; images already referenced).

`export/convert.py` holds the LLaMA-Factory, TRL and the_cauldron shapes; this module the ones that
keep LLaVA's `<image>` placeholder in the text (ms-swift, InternVL, Qwen-VL, torchtune) and the ones
whose messages carry the image as a content part (axolotl, OpenAI-style chat). Turns arrive with
their boxes already in the trainer's convention (`export/boxes.py`).

Where `<image>` stands matters: LLaVA puts it before or after the first question. Placeholder formats
keep it where it is; content-part formats put the image part on that side of the text.
"""

from __future__ import annotations

from typing import Any

from datagen.export.convert import ROLES, split_image_token

Turns = list[dict[str, str]]


def sharegpt_turns(turns: Turns) -> Turns:
    """`{from, value}` turns as InternVL, Qwen-VL and torchtune read them (LLaVA's own shape)."""
    return [{"from": t["from"], "value": t["value"]} for t in turns]


def role_messages(turns: Turns) -> list[dict[str, str]]:
    """`{role, content}` messages with `<image>` kept in the text (ms-swift)."""
    return [{"role": ROLES[t["from"]], "content": t["value"]} for t in turns]


def to_swift(turns: Turns, image: str | None, objects: list[tuple[str, list[float]]]) -> dict[str, Any]:
    """ms-swift: `messages` + `images`; grounded boxes as `objects` {ref, bbox} (pixels, "real")
    filling the `<bbox>` placeholders in order."""
    row: dict[str, Any] = {"messages": role_messages(turns), "images": [image] if image is not None else []}
    if objects:
        row["objects"] = {"ref": [ref for ref, _ in objects], "bbox": [box for _, box in objects]}
    return row


def to_internvl(rid: str, turns: Turns, image: str | None, size: tuple[int, int] | None) -> dict[str, Any]:
    """InternVL chat fine-tuning line: `id`, `image` (relative to the meta `root`), `width`/`height`
    when known, `conversations`."""
    row: dict[str, Any] = {"id": rid}
    if image is not None:
        row["image"] = image
        if size is not None:
            row["width"], row["height"] = size
    row["conversations"] = sharegpt_turns(turns)
    return row


def to_qwen(turns: Turns, image: str | None) -> dict[str, Any]:
    """Qwen-VL fine-tuning (`qwen-vl-finetune`): `image` relative to the entry's `data_path`."""
    row: dict[str, Any] = {}
    if image is not None:
        row["image"] = image
    row["conversations"] = sharegpt_turns(turns)
    return row


def to_torchtune(turns: Turns, image: str | None) -> dict[str, Any]:
    """torchtune `multimodal_chat_dataset` (ShareGPT): `dialogue` + `image_path` (relative to its
    `image_dir`), mapped to its `conversations` / `image` columns by the config's `column_map`."""
    row: dict[str, Any] = {"dialogue": sharegpt_turns(turns)}
    if image is not None:
        row["image_path"] = image
    return row


def _parts(text: str, image_part: dict[str, Any] | None, text_key: str = "text") -> list[dict[str, Any]]:
    """A user turn as content parts, the image on the side where LLaVA's `<image>` stood."""
    question, where = split_image_token(text)
    parts: list[dict[str, Any]] = [{"type": "text", text_key: question}]
    if image_part is not None and where == "first":
        parts.insert(0, image_part)
    elif image_part is not None and where == "last":
        parts.append(image_part)
    return parts


def to_axolotl(turns: Turns, image_part: dict[str, Any] | None) -> dict[str, Any]:
    """axolotl `chat_template` multimodal: every content a list of parts; the image part is
    {"type": "image", "path" | "base64": ...}."""
    messages = []
    for t in turns:
        if t["from"] == "human":
            content = _parts(t["value"], image_part)
        else:
            content = [{"type": "text", "text": t["value"]}]
        messages.append({"role": ROLES[t["from"]], "content": content})
    return {"messages": messages}


def to_openai(turns: Turns, url: str | None, system: str | None = None) -> dict[str, Any]:
    """OpenAI-style fine-tuning line: user content parts with an `image_url` part, assistant text."""
    image_part = {"type": "image_url", "image_url": {"url": url}} if url is not None else None
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for t in turns:
        if t["from"] == "human":
            messages.append({"role": "user", "content": _parts(t["value"], image_part)})
        else:
            messages.append({"role": "assistant", "content": t["value"]})
    return {"messages": messages}
