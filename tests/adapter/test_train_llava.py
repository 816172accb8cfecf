"""A few optimiser steps of a tiny, randomly initialised LLaVA on adapter output with the real images.

Nothing is downloaded: the model comes from a config written here, the tokenizer is built from the
samples' words, pixels come from the real COCO JPEGs. The model itself checks that the number of
image tokens matches its vision features; we check the labels and that the loss is finite and falls.
"""

# ruff: noqa: E402  (imports follow the importorskip of the optional `train` extra)
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from support.export_fixtures import llava_records
from support.train_fixtures import build_tokenizer, vocabulary_texts

from datagen.adapter.torch_data import (
    IGNORE_INDEX,
    Collator,
    ConversationTemplate,
    ImageTransform,
    SupervisedDataset,
    llava_image_tokens,
)


def _tiny_llava(vocab_size: int, image_token_id: int, pad_id: int):
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        pad_token_id=pad_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=image_token_id,
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        image_seq_length=(32 // 8) ** 2,
    )
    torch.manual_seed(0)
    return LlavaForConditionalGeneration(config), config


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["llava-template", "chat-template"])
def test_tiny_llava_trains_on_adapter_output(coco_mini, mode):
    recs = llava_records(coco_mini)
    tok = build_tokenizer(vocabulary_texts(recs))
    image_id = tok.convert_tokens_to_ids("<image>")
    model, config = _tiny_llava(len(tok), image_id, tok.pad_token_id)
    n_img = llava_image_tokens(config)
    assert n_img == 16
    ds = SupervisedDataset(
        recs,
        tok,
        num_image_tokens=n_img,
        image_root=coco_mini / "val2017",
        image_transform=ImageTransform(config.vision_config.image_size),
        template=ConversationTemplate() if mode == "llava-template" else None,
        max_length=512,
    )
    assert len(ds) == 9
    batch = Collator(tok.pad_token_id)([ds[i] for i in range(len(ds))])
    # Labels: exactly the reply tokens survive; prompts, image tokens and padding are -100.
    reply_tokens = sum(
        len(
            tok(a + ("</s>" if mode == "llava-template" else "<|im_end|>"), add_special_tokens=False)[
                "input_ids"
            ]
        )
        for r in recs
        for a in (t["value"] for t in r["conversations"] if t["from"] == "gpt")
    )
    assert int((batch["labels"] != IGNORE_INDEX).sum()) == reply_tokens
    assert (batch["labels"][batch["input_ids"] == image_id] == IGNORE_INDEX).all()
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE_INDEX).all()

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        out = model(**batch)
        assert torch.isfinite(out.loss)
        losses.append(float(out.loss.detach()))
        out.loss.backward()
        opt.step()
        opt.zero_grad()
    assert losses[-1] < losses[0] * 0.8, losses
    assert min(losses[-3:]) < min(losses[:3])
