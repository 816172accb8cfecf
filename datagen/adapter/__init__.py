"""Training adapter: turn generated samples into exactly what trainers consume.

`convert` maps one LLaVA record to each trainer's record shape (pure functions), `writers` writes
whole datasets in those shapes (`datagen adapt FORMAT`; the `llava` and `minigpt4` formats reuse
`export_llava` and `export_minigpt4`, the writers behind `datagen export`), and `torch_data` (needs
the `train` extra) tokenizes samples for training with the non-assistant tokens masked. Imports only the record schema and sample loaders, never the LLM
client: a training job must not need an API key or `openai` installed.
"""

FORMATS = ("llava", "llama-factory", "trl", "cauldron", "minigpt4")
