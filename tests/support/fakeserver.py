"""A real OpenAI-compatible HTTP server on loopback, for tests and benchmarks (never the internet).

It speaks enough of the OpenAI API for the engine: `POST /v1/chat/completions`, `POST /v1/files`,
`GET /v1/files/{id}[/content]`, `POST /v1/batches`, `GET /v1/batches/{id}`. Everything runs on an
aiohttp server in a background thread (or in its own process: `python tests/support/fakeserver.py --help`).

Usage in a test (the `fake_llm` fixture in conftest.py gives you a started one)::

    from support.fakeserver import FakeServer, Reply, Status, Drop, Hang, Malformed

    with FakeServer() as srv:                       # srv.url == "http://127.0.0.1:PORT/v1"
        srv.script(Status(429, retry_after=0.1), Reply("Question: a\\n===\\nAnswer: b"))
        srv.handler = lambda body: Reply("hello")   # used once the script queue is empty
        ... run the engine against srv.url ...
        srv.log                                     # one Entry per request answered
        srv.completed_counts()                      # {messages_key: times answered 200}

What the server can do (all keyword arguments of `FakeServer`, also settable as attributes):
- `handler(body) -> Action | str | None`: per-request reply function (a str means `Reply(str)`,
  None means the default reply). `srv.script(*actions)` queues actions used first, in order.
- Actions: `Reply(text, finish_reason="stop", usage=None, headers=None)`,
  `Status(code, message="", retry_after=None, retry_after_ms=None)` (429, 500, 401, 404, ...),
  `Drop()` (close the connection without answering), `Hang(seconds)` (sleep past the client
  timeout), `Malformed()` (200 with a body that is not JSON), and for `response_format` requests
  `BadJSON()` (a reply whose JSON is cut off) and `MissingField(name=None)` (valid JSON without a
  required field).
- Structured outputs: a request with `response_format` gets, by default, JSON valid against its
  own schema (support/fakereplies.py). `refuse_response_format=True` answers such requests with
  the 400 an older server gives ("response_format is not supported"), live and in batches.
- `handler=ModelLike(drift=0.3)` (support/fakereplies.py) answers like a chat model: the
  few-shot format with realistic drift in 30% of text replies, JSON for structured requests.
- `latency`: seconds before every answer. `api_key`: if set, other keys get 401.
  `models`: if set, other model names get 404 ("model not found").
- `rate_limit=(n, window_s)`: at most n requests per window, else 429 with a `retry-after` header;
  `ratelimit_style` says how the window is counted ("sliding" by default, "fixed", or OpenAI's
  token "bucket"; support/ratewindows.py), and `ratelimit_headers=True` adds the `x-ratelimit-*`
  headers such a server sends (limit = n per window, remaining, reset), to 429s too.
- Batch: `uploads_allowed=N` refuses uploads (400) once N files are held; uploaded files are kept in memory; a batch completes after `batch_polls` status polls;
  each of its lines is answered through the same handler/script (Drop/Hang become 500 lines).
- Bookkeeping: `log` (list of `Entry`: path, status, key of the messages, model, outcome),
  `count(status)`, `completed_counts()`, `batches_created`.
- Images: every `image_url` part is decoded as a VLM server would (base64 → bytes → Pillow);
  each log `Entry` lists them in `images` (`SeenImage`: message index, format, size, mode,
  detail, and the RGB `pixels` unless `keep_pixels=False`) and keeps the request's `messages`
  with the image data elided. A part that does not decode gets a 400, as from a real server.
  `decode=False` skips all of it (benchmarks).
- Default reply: "Reply to <first 8 hex chars of the messages' hash>", so identical requests get
  identical replies and tests can tell requests apart.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

try:
    from support import fakereplies
    from support.ratewindows import Verdict, WindowLimit
except ImportError:  # run as a script (python tests/support/fakeserver.py): tests/ is not on the path
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from support import fakereplies
    from support.ratewindows import Verdict, WindowLimit


@dataclass
class Reply:
    text: str
    finish_reason: str = "stop"
    usage: dict[str, int] | None = None
    headers: dict[str, str] | None = None


@dataclass
class Status:
    code: int
    message: str = ""
    retry_after: float | None = None
    retry_after_ms: float | None = None


@dataclass
class Drop:
    pass


@dataclass
class Hang:
    seconds: float = 30.0


@dataclass
class Malformed:
    pass


@dataclass
class BadJSON:
    pass


@dataclass
class MissingField:
    name: str | None = None


Action = Reply | Status | Drop | Hang | Malformed | BadJSON | MissingField
REFUSAL = "response_format of type json_schema is not supported by this server"


@dataclass
class SeenImage:
    """One `image_url` part of a request, decoded as a VLM server would (base64 → bytes → Pillow)."""

    message: int  # index of the message that carried it
    part: int  # index of the part within that message's content
    url: str | None  # the URL for http(s) parts; None for data URLs
    mime: str | None  # the data URL's declared type
    format: str | None  # what Pillow found in the bytes (JPEG, PNG, WEBP)
    size: tuple[int, int] | None
    mode: str | None
    nbytes: int
    detail: str | None
    pixels: Any = None  # the decoded RGB image (keep_pixels=True)


@dataclass
class Entry:
    path: str
    status: int  # 0 for a dropped connection or a hang that the client gave up on
    key: str  # hash of the request's messages ("" for non-chat endpoints)
    model: str
    outcome: str  # "ok", "length", "error", "drop", "hang", "malformed", "ratelimited"
    t: float = field(default_factory=time.monotonic)
    images: list[SeenImage] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)  # the request's messages, image data elided


def decode_images(messages: Any, keep_pixels: bool = True) -> tuple[list[SeenImage], list[Any]]:
    """Every image part of `messages`, decoded; and the messages with each data URL replaced by
    "<image>". Raises ValueError for a part a VLM server would refuse (bad base64, not an image)."""
    import base64
    import binascii
    import io

    from PIL import Image

    seen: list[SeenImage] = []
    shown: list[Any] = []
    for i, m in enumerate(messages or []):
        content = m.get("content") if isinstance(m, dict) else None
        if not isinstance(content, list):
            shown.append(m)
            continue
        parts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "image_url":
                parts.append(part)
                continue
            inner = part.get("image_url") or {}
            url, detail = str(inner.get("url", "")), inner.get("detail")
            parts.append(
                {**part, "image_url": {**inner, "url": "<image>" if url.startswith("data:") else url}}
            )
            if not url.startswith("data:"):
                seen.append(SeenImage(i, j, url, None, None, None, None, 0, detail))
                continue
            head, _, data = url.partition(",")
            if not head.endswith(";base64"):
                raise ValueError(f"message {i}: image data URL is not base64")
            try:
                raw = base64.b64decode(data, validate=True)
            except binascii.Error as e:
                raise ValueError(f"message {i}: bad base64 in image ({e})") from None
            try:
                with Image.open(io.BytesIO(raw)) as im:
                    im.load()
                    fmt, size, mode = im.format, im.size, im.mode
                    pixels = im.convert("RGB") if keep_pixels else None
            except Exception as e:
                raise ValueError(f"message {i}: cannot decode image ({e})") from None
            seen.append(SeenImage(i, j, None, head[5:-7], fmt, size, mode, len(raw), detail, pixels))
        shown.append({**m, "content": parts})
    return seen, shown


def messages_key(messages: Any) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def _default_reply(body: dict[str, Any]) -> Reply:
    if body.get("response_format"):  # schema-valid JSON about the request
        return Reply(fakereplies.structured_reply(body))
    return Reply(f"Reply to {messages_key(body.get('messages'))[:8]}")


def _resolve(action: Action, body: dict[str, Any]) -> Action:
    """The JSON faults become the reply text they stand for."""
    if isinstance(action, BadJSON):
        return Reply(fakereplies.break_json(body, "bad_json"))
    if isinstance(action, MissingField):
        return Reply(fakereplies.break_json(body, "missing_field", action.name))
    return action


class FakeServer:
    def __init__(
        self,
        *,
        handler: Callable[[dict[str, Any]], Action | str | None] | None = None,
        latency: float = 0.0,
        api_key: str | None = None,
        models: set[str] | None = None,
        rate_limit: tuple[int, float] | None = None,
        ratelimit_headers: bool = False,
        ratelimit_style: str = "sliding",
        batch_polls: int = 2,
        refuse_response_format: bool = False,
        uploads_allowed: int | None = None,
        decode: bool = True,
        keep_pixels: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.handler = handler
        self.latency = latency
        self.api_key = api_key
        self.models = models
        self.rate_limit = rate_limit
        self.ratelimit_headers = ratelimit_headers
        self._limit = WindowLimit(*rate_limit, style=ratelimit_style) if rate_limit else None
        self.batch_polls = batch_polls
        self.refuse_response_format = refuse_response_format
        self.decode, self.keep_pixels = decode, keep_pixels
        self.uploads_allowed = uploads_allowed  # then uploads get a 400 (a submission cut short)
        self.host, self.port = host, port
        self.log: list[Entry] = []
        self.batches_created = 0
        self._queue: collections.deque[Action] = collections.deque()
        self._files: dict[str, tuple[bytes, str, str]] = {}  # id -> (content, purpose, filename)
        self._batches: dict[str, dict[str, Any]] = {}
        self._polls: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()

    # ---- public helpers -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def script(self, *actions: Action) -> None:
        """Queue actions answered first, one per chat request, in order."""
        self._queue.extend(actions)

    def count(self, status: int) -> int:
        return sum(1 for e in self.log if e.status == status)

    def completed_counts(self) -> dict[str, int]:
        """How many times each distinct request (by messages) got a complete 200 answer."""
        return dict(collections.Counter(e.key for e in self.log if e.outcome == "ok"))

    def stats(self) -> dict[str, Any]:
        by_status = collections.Counter(str(e.status) for e in self.log)
        out = {"requests": len(self.log), "by_status": dict(by_status), "batches": self.batches_created}
        kinds = getattr(self.handler, "kinds", None)
        if kinds is not None:  # a ModelLike handler: which drifts it used
            out["kinds"] = dict(kinds)
        ok = [e.t for e in self.log if e.status == 200]
        if ok:  # when answering began (time.monotonic(), the same clock in every process)
            out["first_ok"], out["last_ok"] = ok[0], ok[-1]
        return out

    def answered_within(self, seconds: float) -> int:
        """How many 200s were sent in the first `seconds` after the first one."""
        ok = [e.t for e in self.log if e.status == 200]
        return sum(1 for t in ok if t - ok[0] <= seconds) if ok else 0

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._serve_thread, name="fakeserver", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            with contextlib.suppress(Exception):
                fut.result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve_thread(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start_site())
        self._ready.set()
        self._loop.run_forever()

    async def _start_site(self) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{fid}", self._file_meta)
        app.router.add_get("/v1/files/{fid}/content", self._file_content)
        app.router.add_post("/v1/batches", self._create_batch)
        app.router.add_get("/v1/batches/{bid}", self._get_batch)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # ---- chat completions -----------------------------------------------------------------------
    def _next_action(self, body: dict[str, Any]) -> Action:
        if self.refuse_response_format and body.get("response_format"):
            return Status(400, REFUSAL)
        if self._queue:
            try:
                return _resolve(self._queue.popleft(), body)
            except IndexError:
                pass
        if self.handler is not None:
            got = self.handler(body)
            if isinstance(got, str):
                return Reply(got)
            if got is not None:
                return _resolve(got, body)
        return _default_reply(body)

    def _auth_error(self, request: web.Request) -> web.Response | None:
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        return None

    def _admit(self) -> Verdict | None:
        """The server's rate-limit verdict for one more request (None: no limit configured)."""
        if self._limit is None:
            return None
        verdict = self._limit.admit(time.monotonic())
        if not self.ratelimit_headers:
            verdict.headers = {}
        return verdict

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "request body is not JSON", "invalid_request")
        key = messages_key(body.get("messages"))
        model = str(body.get("model", ""))
        images: list[SeenImage] = []
        shown: list[Any] = []
        if self.decode:
            try:
                images, shown = decode_images(body.get("messages"), self.keep_pixels)
            except ValueError as e:  # what a VLM server answers for an image it cannot read
                self.log.append(Entry(request.path, 400, key, model, "error"))
                return _error(400, str(e), "invalid_image")
        denied = self._auth_error(request)
        if denied is not None:
            self.log.append(Entry(request.path, 401, key, model, "error"))
            return denied
        if self.models is not None and model not in self.models:
            self.log.append(Entry(request.path, 404, key, model, "error"))
            return _error(404, f"The model `{model}` does not exist", "model_not_found")
        verdict = self._admit()
        if verdict is not None and not verdict.admitted:
            self.log.append(Entry(request.path, 429, key, model, "ratelimited"))
            headers = {**verdict.headers, "retry-after": f"{verdict.retry_after:.3f}"}
            return _error(429, "Rate limit reached", "rate_limit_exceeded", headers)
        action = self._next_action(body)
        if self.latency:
            await asyncio.sleep(self.latency)
        limit_headers = verdict.headers if verdict is not None else {}
        response = await self._answer(request, action, body, key, model, limit_headers)
        if self.decode and self.log:
            self.log[-1].images, self.log[-1].messages = images, shown
        return response

    async def _answer(
        self,
        request: web.Request,
        action: Action,
        body: dict[str, Any],
        key: str,
        model: str,
        limit_headers: dict[str, str],
    ) -> web.StreamResponse:
        path = request.path
        if isinstance(action, Drop):
            self.log.append(Entry(path, 0, key, model, "drop"))
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if isinstance(action, Hang):
            self.log.append(Entry(path, 0, key, model, "hang"))
            await asyncio.sleep(action.seconds)
            return _error(500, "hung", "server_error")
        if isinstance(action, Malformed):
            self.log.append(Entry(path, 200, key, model, "malformed"))
            return web.Response(
                status=200, body=b'{"id": "chatcmpl-x", "choices": [', content_type="application/json"
            )
        if isinstance(action, Status):
            self.log.append(Entry(path, action.code, key, model, "error"))
            headers = {}
            if action.retry_after is not None:
                headers["retry-after"] = f"{action.retry_after:g}"
            if action.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{action.retry_after_ms:g}"
            return _error(action.code, action.message or f"status {action.code}", "scripted", headers)
        payload = completion_body(action, body)
        headers = {**limit_headers, **(action.headers or {})}
        outcome = "ok" if action.finish_reason == "stop" else action.finish_reason
        self.log.append(Entry(path, 200, key, model, outcome))
        return web.Response(
            body=json.dumps(payload).encode(), content_type="application/json", headers=headers
        )

    # ---- files and batches ----------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        if self.uploads_allowed is not None and len(self._files) >= self.uploads_allowed:
            return _error(400, "upload refused (test: uploads_allowed reached)", "invalid_request")
        form = await request.post()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "file"):
            return _error(400, "missing file", "invalid_request")
        content = upload.file.read()
        fid = f"file-{len(self._files) + 1:06d}"
        self._files[fid] = (content, str(form.get("purpose", "")), upload.filename or "upload.jsonl")
        self.log.append(Entry(request.path, 200, "", "", "ok"))
        return web.json_response(self._file_obj(fid))

    def _file_obj(self, fid: str) -> dict[str, Any]:
        content, purpose, name = self._files[fid]
        return {
            "id": fid,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    async def _file_meta(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        if fid not in self._files:
            return _error(404, f"no file {fid}", "not_found")
        return web.json_response(self._file_obj(fid))

    async def _file_content(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        if fid not in self._files:
            return _error(404, f"no file {fid}", "not_found")
        return web.Response(body=self._files[fid][0], content_type="application/octet-stream")

    async def _create_batch(self, request: web.Request) -> web.Response:
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        body = await request.json()
        fid = body.get("input_file_id")
        if fid not in self._files:
            return _error(400, f"input file {fid} not found", "invalid_request")
        self.batches_created += 1
        bid = f"batch_{self.batches_created:06d}"
        self._batches[bid] = {
            "id": bid,
            "object": "batch",
            "endpoint": body.get("endpoint", "/v1/chat/completions"),
            "errors": None,
            "input_file_id": fid,
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        self._polls[bid] = 0
        self.log.append(Entry(request.path, 200, "", "", "ok"))
        return web.json_response(self._batches[bid])

    async def _get_batch(self, request: web.Request) -> web.Response:
        bid = request.match_info["bid"]
        if bid not in self._batches:
            return _error(404, f"no batch {bid}", "not_found")
        batch = self._batches[bid]
        self._polls[bid] += 1
        if batch["status"] == "validating":
            batch["status"] = "in_progress"
        if batch["status"] == "in_progress" and self._polls[bid] >= self.batch_polls:
            self._run_batch(batch)
        return web.json_response(batch)

    def _run_batch(self, batch: dict[str, Any]) -> None:
        content = self._files[batch["input_file_id"]][0]
        out, err = [], []
        for i, line in enumerate(content.splitlines()):
            if not line.strip():
                continue
            req = json.loads(line)
            body = req["body"]
            key = messages_key(body.get("messages"))
            action = self._next_action(body)
            rid = f"batch_req_{i}"
            if isinstance(action, Reply):
                outcome = "ok" if action.finish_reason == "stop" else action.finish_reason
                images, shown = (
                    decode_images(body.get("messages"), self.keep_pixels) if self.decode else ([], [])
                )
                entry = Entry("/v1/batches#line", 200, key, str(body.get("model")), outcome, images=images)
                entry.messages = shown
                self.log.append(entry)
                resp = {"status_code": 200, "request_id": rid, "body": completion_body(action, body)}
                out.append({"id": rid, "custom_id": req["custom_id"], "response": resp, "error": None})
            else:
                code = action.code if isinstance(action, Status) else 500
                message = (
                    action.message if isinstance(action, Status) and action.message else f"status {code}"
                )
                self.log.append(Entry("/v1/batches#line", code, key, str(body.get("model")), "error"))
                resp = {
                    "status_code": code,
                    "request_id": rid,
                    "body": {"error": {"message": message}},
                }
                err.append({"id": rid, "custom_id": req["custom_id"], "response": resp, "error": None})
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = f"file-{len(self._files) + 1:06d}"
                data = "".join(json.dumps(r) + "\n" for r in rows).encode()
                self._files[fid] = (data, "batch_output", f"{batch['id']}_{name}.jsonl")
                batch[name] = fid
        batch["status"] = "completed"
        batch["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}

    async def _stats(self, request: web.Request) -> web.Response:
        out = self.stats()
        if "within" in request.query:
            out["answered_within"] = self.answered_within(float(request.query["within"]))
        return web.json_response(out)


def completion_body(action: Reply, body: dict[str, Any]) -> dict[str, Any]:
    prompt_chars = images = 0
    for m in body.get("messages") or []:
        content = m.get("content", "")
        if isinstance(content, list):  # content parts: the text, and 85 tokens per image (OpenAI's low)
            prompt_chars += sum(len(str(p.get("text", ""))) for p in content if isinstance(p, dict))
            images += sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
        else:
            prompt_chars += len(str(content))
    usage = action.usage or {
        "prompt_tokens": prompt_chars // 4 + 1 + 85 * images,
        "completion_tokens": len(action.text) // 4 + 1,
    }
    usage = {**usage, "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": action.text},
                "finish_reason": action.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers
    )


def main() -> None:
    """Run in its own process (benchmarks): prints `URL <base_url>` once listening, serves forever."""
    ap = argparse.ArgumentParser(description="Loopback OpenAI-compatible test server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--rate", default=None, help="N/WINDOW_S, e.g. 300/10")
    ap.add_argument("--ratelimit-headers", action="store_true")
    ap.add_argument("--ratelimit-style", default="sliding", choices=["sliding", "fixed", "bucket"])
    ap.add_argument("--reply-chars", type=int, default=0, help="reply 'Q: ...\\nA: ...' of this many chars")
    ap.add_argument(
        "--model-like", type=float, default=None, metavar="DRIFT",
        help="answer like a chat model (support/fakereplies.ModelLike), drifting in DRIFT of text replies",
    )  # fmt: skip
    ap.add_argument("--seed", type=int, default=0, help="seed of --model-like's choices")
    ap.add_argument("--no-decode", action="store_true", help="do not decode image parts (benchmarks)")
    args = ap.parse_args()
    rate = None
    if args.rate:
        n, w = args.rate.split("/")
        rate = (int(n), float(w))
    handler = None
    if args.reply_chars:
        words = "a cat sleeps on a red sofa next to a lamp in a quiet living room " * 100

        def handler(body: dict[str, Any]) -> Action:
            # "Q: ...\nA: ..." (what the engine tests' EchoQA task parses), padded to --reply-chars
            head = f"Q: What is in {messages_key(body.get('messages'))[:8]}?\nA: "
            return Reply(head + words[: max(3, args.reply_chars - len(head))])

    if args.model_like is not None:
        handler = fakereplies.ModelLike(args.model_like, seed=args.seed)  # type: ignore[assignment]
    srv = FakeServer(
        handler=handler,
        latency=args.latency,
        rate_limit=rate,
        ratelimit_headers=args.ratelimit_headers,
        ratelimit_style=args.ratelimit_style,
        port=args.port,
        decode=not args.no_decode,
        keep_pixels=False,
    )
    srv.start()
    print(f"URL {srv.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
