"""The training adapter: generated samples → tokenized PyTorch training examples.

`torch_data` (needs the `train` extra) renders each record's conversation, tokenizes it, labels only
the assistant tokens and expands `<image>` to the model's image-token count; `Collator` pads batches.
The per-trainer file formats (`datagen adapt FORMAT`) live in `datagen/export/` with the other
formats. Imports only the record schema and export helpers, never the LLM client: a training job
must not need an API key or `openai` installed.
"""
