"""Publish an exported dataset folder to the Hugging Face Hub (`datagen export hf --push-to-hub`).

The token comes from `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`) or the user's `hf auth login`
file; it is handed to `huggingface_hub` in memory only and is redacted from every error message.
The folder pushed is exactly what was written locally (parquet shards + README.md card), so the
Hub copy and the local copy cannot drift: the same commit deletes the repo's older `data/` files.
Shard names carry the export's fingerprint (`export.fingerprint`), so without that deletion every
re-push would leave the previous shards behind (unused by the card, but downloaded by a clone).
"""

from __future__ import annotations

import os
from pathlib import Path

from datagen.errors import ConfigError, RemoteError, UsageError, redact

_TRUE = {"1", "true", "yes", "on"}


def check_push_possible(repo_id: str) -> str:
    """Fail early (before exporting anything) if a push cannot work; return the token to use."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise UsageError(f"--push-to-hub '{repo_id}' is not a repo id like user/name")
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in _TRUE:
        raise ConfigError(
            "cannot push to the Hub: HF_HUB_OFFLINE is set",
            hint="unset HF_HUB_OFFLINE to push, or drop --push-to-hub and upload the folder later",
        )
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if not token:
        from huggingface_hub import get_token

        token = get_token()
    if not token:
        raise ConfigError(
            "no Hugging Face token found",
            hint="set HF_TOKEN or run `hf auth login`; the token is never written to disk by datagen",
        )
    return token


def push_folder(folder: str | Path, repo_id: str, *, token: str, private: bool) -> str:
    """Create the dataset repo if needed and upload `folder` as one commit; returns the repo URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=True if private else None, exist_ok=True)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="dataset",
            delete_patterns=["data/*"],  # files this upload re-adds are kept, the rest of data/ goes
            commit_message="Upload dataset exported with datagen",
        )
    except Exception as e:  # network, auth, quota: the Hub's message, minus the token
        msg = redact(str(e).splitlines()[0] if str(e) else type(e).__name__, (token,))
        raise RemoteError(
            f"push to {repo_id} failed: {msg}",
            hint=f"the local export in {folder} is complete; retry the push later",
        ) from None
    return str(url)
