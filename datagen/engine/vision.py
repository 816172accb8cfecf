"""`--image-input`: give each request its image, for live runs, `--batch` and `--dry-run` alike.

Step in the flow: before anything is sent, `Images.probe_all` reads every distinct image file once
(in threads) for its digest and header, so the request key (`images_key`) covers the bytes that
will be sent and the options that shape them, and files that cannot be sent (missing, empty, not
an image, a bomb, escaping `--images`) fail their sample at stage `input` without a request.
At send time `Images.body` decodes, resizes and encodes the image for exactly one request (CPU
work, run in worker threads, so the event loop keeps sending); nothing keeps the pixels or the
base64 text once the request is done.

In `url` mode nothing is read: the part carries `--image-url-prefix` + the record's image name
(the server fetches it), and the key covers that URL. Few-shot example images (a template
folder's `NNN.jpg`) are local files and always travel as base64.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from datagen.engine.config import GenerationParams, request_body
from datagen.llm.tokens import image_tokens
from datagen.prompts.images import EncodeSpec, ImageProblem, Probe, cpu_workers, encode, fitted, locate, probe
from datagen.prompts.vision import VisionOptions, image_part, with_images
from datagen.tasks.base import Job

T = TypeVar("T")
R = TypeVar("R")


class Images:
    """The image side of one run: probes (cached per file), keys, token estimates, bodies."""

    def __init__(self, params: GenerationParams) -> None:
        self.params = params
        self.opts: VisionOptions = params.vision
        self._probes: dict[Path, Probe | ImageProblem] = {}
        self._pool: cf.ThreadPoolExecutor | None = None

    @property
    def pool(self) -> cf.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = cf.ThreadPoolExecutor(cpu_workers(), thread_name_prefix="datagen-image")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ---- which files -----------------------------------------------------------------------------
    def _sample_file(self, job: Job) -> Path:
        return locate(str(job.source.get("image") or ""), self.opts.images)

    def _files(self, job: Job) -> list[Path]:
        files = [Path(p) for _, p in job.example_images]
        if self.opts.mode == "base64":
            with contextlib.suppress(ImageProblem):  # reported by images_key
                files.append(self._sample_file(job))
        return files

    def probe_all(self, jobs: Iterable[Job]) -> None:
        """Probe every distinct image of `jobs` once, in threads (file reads and hashing)."""
        todo = list(dict.fromkeys(f for j in jobs for f in self._files(j) if f not in self._probes))
        for path, got in zip(
            todo, bounded_map(_safe_probe(self.opts.encode_spec()), todo, self.pool), strict=True
        ):
            self._probes[path] = got

    def _probe(self, path: Path) -> Probe:
        got = self._probes.get(path)
        if got is None:
            got = self._probes[path] = _safe_probe(self.opts.encode_spec())(path)
        if isinstance(got, ImageProblem):
            raise got
        return got

    # ---- keys and estimates -----------------------------------------------------------------------
    def images_key(self, job: Job) -> str:
        """What the request key covers about `job`'s images; `ImageProblem` if one cannot be sent."""
        parts = [self.opts.key_text()]
        for i, p in job.example_images:
            parts.append(f"{i}:{self._sent(self._probe(Path(p)))}")
        name = str(job.source.get("image") or "")
        if self.opts.mode == "url":
            if not name:
                raise ImageProblem("the record names no image")
            parts.append(f"url:{self.opts.url_for(name)}")
        else:
            parts.append(self._sent(self._probe(self._sample_file(job))))
        return "\x1f".join(parts)

    def _sent(self, pr: Probe) -> str:
        """One image's bytes as sent: the file itself, or its re-encoding at this size and quality."""
        if pr.as_is:
            return f"{pr.digest}:as-is"
        return f"{pr.digest}:{pr.out_size[0]}x{pr.out_size[1]}:q{self.opts.quality}"

    def sizes(self, job: Job) -> list[tuple[int, int]]:
        """Sizes of the images `job` sends (url mode: the record's own width/height, fitted)."""
        out = []
        for _, p in job.example_images:
            got = self._probes.get(Path(p))
            if isinstance(got, Probe):
                out.append(got.out_size)
        if self.opts.mode == "url":
            w, h = job.source.get("width"), job.source.get("height")
            out.append(fitted((int(w), int(h)), self.opts.max_side) if w and h else (512, 512))
        else:
            with contextlib.suppress(ImageProblem):
                out.append(self._probe(self._sample_file(job)).out_size)
        return out

    def tokens(self, job: Job) -> int:
        """Estimated prompt tokens of `job`'s images (the OpenAI tile rule, else a patch estimate)."""
        o = self.opts
        return sum(image_tokens(self.params.model, s, o.detail, o.image_tokens) for s in self.sizes(job))

    # ---- bodies -----------------------------------------------------------------------------------
    def body(self, job: Job) -> dict[str, Any]:
        """The request body with its image parts (CPU work: run it in `pool`, not on the event loop)."""
        body = request_body(job, self.params)
        spec, detail = self.opts.encode_spec(), self.opts.detail
        parts = {i: image_part(encode(Path(p), spec).data_url(), detail) for i, p in job.example_images}
        last = len(job.messages) - 1
        if self.opts.mode == "url":
            parts[last] = image_part(self.opts.url_for(str(job.source.get("image") or "")), detail)
        else:
            parts[last] = image_part(encode(self._sample_file(job), spec).data_url(), detail)
        body["messages"] = with_images(job.messages, parts)
        return body


def _safe_probe(spec: EncodeSpec) -> Callable[[Path], Probe | ImageProblem]:
    def run(path: Path) -> Probe | ImageProblem:
        try:
            return probe(path, spec)
        except ImageProblem as e:
            return e

    return run


def bounded_map(fn: Callable[[T], R], items: Iterable[T], pool: cf.Executor, window: int = 0) -> Iterator[R]:
    """`fn` over `items` in `pool`, results in order, at most `window` (default: 2 per thread)
    in flight, so a long input never has all its results in memory at once."""
    window = window or 2 * getattr(pool, "_max_workers", 2)
    pending: list[cf.Future[R]] = []
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for fut in pending:
        yield fut.result()


def body_or_problem(images: Images, job: Job) -> dict[str, Any] | ImageProblem:
    """`images.body(job)`, or the problem that stopped it (a truncated or corrupt file)."""
    try:
        return images.body(job)
    except ImageProblem as e:
        return e
