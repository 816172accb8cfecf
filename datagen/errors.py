"""Typed errors: library code raises these; `cli.py` turns them into one `Error: ...` line and an exit code.

Every message should say what went wrong, where (file, line, record id), and what to do about it.
"""

from __future__ import annotations

import re


class DatagenError(Exception):
    """Base class for every error a user can cause and fix. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(DatagenError):
    """A file or record the user gave us is missing, unreadable or malformed."""

    exit_code = 2


class UsageError(DatagenError):
    """Options that contradict each other or name something unknown (a task, a format)."""

    exit_code = 2


class TemplateError(DatagenError):
    """A template folder is missing files, or a template cannot be rendered."""

    exit_code = 2


class ConfigError(DatagenError):
    """The environment is not set up for the request (missing optional package, model, key)."""

    exit_code = 3


class RemoteError(DatagenError):
    """The model server refused the run as a whole (bad key, wrong model/base URL, unreachable)."""

    exit_code = 4


class RunFailedError(DatagenError):
    """A run ended without the samples it was asked for: every one failed, or more than
    `--max-failure-rate` of them. Everything finished is saved; the summary says what failed."""

    exit_code = 5


class BusyError(DatagenError):
    """Another process holds the run directory (one writer per `--out`)."""

    exit_code = 6


class ParseError(DatagenError):
    """A model reply does not have the shape the task expects. Counted as a failed attempt."""


_SECRET_ENV_VARS = ("OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
# `scheme://user:password@host` and `?api_key=...` / `&token=...` in any URL we print or store
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@'\"]*):([^/\s@'\"]+)@")
_SECRET_PARAMS = "api[_-]?key|key|token|access[_-]?token|auth|secret|password|passwd|pwd|sig|signature"
_QUERY_SECRET = re.compile(rf"(?i)([?&](?:{_SECRET_PARAMS})=)([^&#\s'\"]+)")


def url_secrets(url: str) -> list[str]:
    """The password and secret-looking query values inside `url` (to mask wherever they appear)."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    found = [parts.password] if parts.password else []
    names = re.compile(rf"(?i)^(?:{_SECRET_PARAMS})$")
    found += [v for k, v in urllib.parse.parse_qsl(parts.query) if names.match(k) and v]
    return found


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Replace any known secret (API keys from the environment, plus `extra_secrets`) with `***`,
    and the password and secret query values of every URL in `text`."""
    import os

    for value in (*(os.environ.get(v, "") for v in _SECRET_ENV_VARS), *extra_secrets):
        if value and len(value) >= 6:
            text = text.replace(value, "***")
    if "://" in text:
        text = _USERINFO.sub(r"\1\2:***@", text)
    if "=" in text:
        text = _QUERY_SECRET.sub(r"\1***", text)
    return text
