"""Training API: labels mask exactly the non-assistant tokens; image expansion; safe truncation."""

# ruff: noqa: E402  (imports follow the importorskip of the optional `train` extra)
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")  # the `train` extra; CI installs it

from support.export_fixtures import llava_records
from support.train_fixtures import BLOCKS, build_tokenizer, ids, vocabulary_texts

from datagen.adapter.torch_data import (
    IGNORE_INDEX,
    Collator,
    ConversationTemplate,
    ImageTransform,
    SupervisedDataset,
)
from datagen.errors import ConfigError, InputError
from datagen.export.convert import pairs

N_IMG = 16


def _expected_llava(tok, rec, n_img=N_IMG):
    """Built piece by piece, independently of the dataset's offset-based labelling."""
    tpl = ConversationTemplate()
    out_ids, out_labels = [tok.bos_token_id], [IGNORE_INDEX]
    prompt = tpl.system + " "
    for q, a in pairs(rec):
        p = ids(tok, f"{prompt}USER: {q} ASSISTANT:")
        out_ids += p
        out_labels += [IGNORE_INDEX] * len(p)
        ans = ids(tok, f" {a}</s>")
        out_ids += ans
        out_labels += ans
        prompt = ""
    return _expand(tok, out_ids, out_labels, n_img)


def _expected_chatml(tok, rec, n_img=N_IMG):
    out_ids, out_labels = [], []
    for q, a in pairs(rec):
        p = ids(tok, f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n")
        out_ids += p
        out_labels += [IGNORE_INDEX] * len(p)
        ans = ids(tok, f"{a}<|im_end|>\n")
        out_ids += ans
        out_labels += ans
    return _expand(tok, out_ids, out_labels, n_img)


def _expected_blocks(tok, rec, n_img=N_IMG):
    from datagen.export.convert import split_image_token

    out_ids, out_labels = [], []
    for q, a in pairs(rec):
        text, where = split_image_token(q)
        p = ids(tok, f"USER: {'<image>' + chr(10) if where else ''}{text} ASSISTANT: ")
        out_ids += p
        out_labels += [IGNORE_INDEX] * len(p)
        ans = ids(tok, f"{a}</s>")
        out_ids += ans
        out_labels += ans
    return _expand(tok, out_ids, out_labels, n_img)


def _expand(tok, out_ids, out_labels, n_img):
    img = tok.convert_tokens_to_ids("<image>")
    i = out_ids.index(img)
    return (
        out_ids[:i] + [img] * n_img + out_ids[i + 1 :],
        out_labels[:i] + [IGNORE_INDEX] * n_img + out_labels[i + 1 :],
    )


@pytest.mark.parametrize("mode", ["llava-template", "chat-template", "blocks-template"])
def test_labels_are_exactly_the_replies(coco_mini, mode):
    recs = llava_records(coco_mini)
    tok = build_tokenizer(vocabulary_texts(recs))
    template = ConversationTemplate() if mode == "llava-template" else None
    if mode == "blocks-template":
        tok.chat_template = BLOCKS
    ds = SupervisedDataset(
        recs,
        tok,
        num_image_tokens=N_IMG,
        image_root=coco_mini / "val2017",
        image_transform=ImageTransform(32),
        template=template,
        content_blocks=mode == "blocks-template",
    )
    assert len(ds) == len(recs) and ds.skipped == []
    expect = {"llava-template": _expected_llava, "chat-template": _expected_chatml}.get(
        mode, _expected_blocks
    )
    img = tok.convert_tokens_to_ids("<image>")
    for i, rec in enumerate(recs):
        item = ds[i]
        want_ids, want_labels = expect(tok, rec)
        assert item["input_ids"].tolist() == want_ids
        assert item["labels"].tolist() == want_labels
        assert (item["input_ids"] == img).sum() == N_IMG
        assert (item["labels"][item["input_ids"] == img] == IGNORE_INDEX).all()
        assert item["pixel_values"].shape == (3, 32, 32)
    # The pixels are the real photos: different images give different tensors with real contrast.
    a, b = ds[0]["pixel_values"], ds[1]["pixel_values"]
    assert a.std() > 0.2 and not torch.allclose(a, b)


def test_truncation_never_cuts_the_image_block(coco_mini):
    recs = [r for r in llava_records(coco_mini) if r["task"] == "detail_description"]
    tok = build_tokenizer(vocabulary_texts(recs))
    kwargs = dict(
        num_image_tokens=N_IMG,
        image_root=coco_mini / "val2017",
        image_transform=ImageTransform(32),
        template=ConversationTemplate(),
    )
    full = SupervisedDataset(recs, tok, max_length=4096, **kwargs)
    lengths = [len(full[i]["input_ids"]) for i in range(len(full))]
    # Image at the end of the question ("q\n<image>") for record 1: its block ends late.
    ends = []
    for i in range(len(full)):
        pos = (full[i]["input_ids"] == tok.convert_tokens_to_ids("<image>")).nonzero().flatten()
        ends.append(int(pos.max()) + 1)
    limit = max(ends) + 3  # every image block fits, answers get cut
    assert limit < min(lengths)
    cut = SupervisedDataset(recs, tok, max_length=limit, **kwargs)
    assert len(cut) == 3 and cut.skipped == []
    for i in range(3):
        item = cut[i]
        assert len(item["input_ids"]) == limit
        assert item["input_ids"].tolist() == full[i]["input_ids"].tolist()[:limit]
        assert (item["labels"] != IGNORE_INDEX).any()
    # A limit inside some image block: those samples are listed as skipped, never half-imaged.
    tight = SupervisedDataset(recs, tok, max_length=min(ends) - 1, **kwargs)
    assert len(tight) == 0
    assert [s[0] for s in tight.skipped] == [r["sample_id"] for r in recs]
    assert all("image block ends at token" in s[1] for s in tight.skipped)


def test_collator_pads_and_stacks(coco_mini):
    recs = llava_records(coco_mini)
    tok = build_tokenizer(vocabulary_texts(recs))
    ds = SupervisedDataset(
        recs,
        tok,
        num_image_tokens=N_IMG,
        image_root=coco_mini / "val2017",
        image_transform=ImageTransform(32),
        template=ConversationTemplate(),
    )
    batch = Collator(tok.pad_token_id)([ds[0], ds[3], ds[6]])
    lens = [len(ds[i]["input_ids"]) for i in (0, 3, 6)]
    assert batch["input_ids"].shape == (3, max(lens)) and batch["pixel_values"].shape == (3, 3, 32, 32)
    for row, n in enumerate(lens):
        assert batch["attention_mask"][row].sum() == n
        assert (batch["input_ids"][row, n:] == tok.pad_token_id).all()
        assert (batch["labels"][row, n:] == IGNORE_INDEX).all()


def test_configuration_errors(coco_mini, tmp_path):
    recs = llava_records(coco_mini)
    tok = build_tokenizer(vocabulary_texts(recs))
    with pytest.raises(ConfigError, match="no image_root"):
        SupervisedDataset(recs, tok, num_image_tokens=N_IMG, template=ConversationTemplate())
    with pytest.raises(InputError, match="missing under"):
        SupervisedDataset(
            recs, tok, num_image_tokens=N_IMG, image_root=tmp_path, template=ConversationTemplate()
        )
    tok.chat_template = None
    with pytest.raises(ConfigError, match="no chat template"):
        SupervisedDataset(recs, tok, num_image_tokens=N_IMG, image_root=coco_mini / "val2017")


def test_transformers_image_processor_gives_the_pixels(coco_mini):
    """A transformers image processor works as `image_transform` (what real training code passes)."""
    pytest.importorskip("transformers")
    from transformers import CLIPImageProcessor

    recs = [r for r in llava_records(coco_mini) if r["task"] == "detail_description"]
    tok = build_tokenizer(vocabulary_texts(recs))
    proc = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    ds = SupervisedDataset(
        recs, tok, num_image_tokens=N_IMG, image_root=coco_mini / "val2017",
        image_transform=proc, template=ConversationTemplate(),
    )  # fmt: skip
    from PIL import Image

    for i, rec in enumerate(recs):
        with Image.open(coco_mini / "val2017" / rec["image"]) as img:
            want = proc(images=img.convert("RGB"), return_tensors="pt")["pixel_values"][0]
        assert torch.equal(ds[i]["pixel_values"], want) and want.shape == (3, 32, 32)
