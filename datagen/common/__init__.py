"""Plumbing every stage shares: atomic JSON/JSONL files, safe paths under a root, `--shard K/N`,
where the bundled templates and data live, image headers, and the spaCy model loader.

Knows nothing about tasks, models or run directories."""
