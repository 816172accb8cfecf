"""Review step 3b: the whole page: header with counts, controls, the cards, inline CSS and JS.

The page is one self-contained file. A Content-Security-Policy allows only our own inline script
(by its hash), inline styles, and images from the page's folder or data URIs, so nothing loads from
the network and any markup that slipped into the data could not run. The little data the script
needs travels as JSON inside `<script type="application/json">`, with `<`, `>` and `&` written as
JSON escapes so no string can close the element or open a comment.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path
from typing import Any

from datagen import __version__
from datagen.review.gather import Card, Summary
from datagen.review.images import ImageRef
from datagen.review.payload import build_payload

_ASSETS = Path(__file__).resolve().parent / "assets"
BATCH = 40  # cards drawn at a time; more are drawn as the reader scrolls or moves with j
STAGES = ("request", "parse", "filter")


def esc(value: str) -> str:
    """Escape text for HTML text or a double-quoted attribute."""
    return html.escape(value, quote=True)


def script_json(data: Any) -> str:
    """JSON safe to place inside a <script> element (no `</script>`, `<!--` or `]]>` can appear)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, rep in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, rep)
    return text


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; "
        f"script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src 'self' data: file: blob:; "
        "base-uri 'none'; form-action 'none'"
    )


def render_stats(summary: Summary) -> str:
    tasks = sorted(set(summary.samples_by_task) | {t for t, _ in summary.failures_by_task_stage})
    head = "".join(f"<th>{s}</th>" for s in STAGES)
    rows = []
    totals = [0, 0, 0, 0]
    for t in tasks:
        fails = [summary.failures_by_task_stage.get((t, s), 0) for s in STAGES]
        n = summary.samples_by_task.get(t, 0)
        totals = [a + b for a, b in zip(totals, [n, *fails], strict=True)]
        cells = "".join(f"<td>{v}</td>" for v in fails)
        rows.append(f'<tr data-task="{esc(t)}"><th>{esc(t)}</th><td>{n}</td>{cells}</tr>')
    if len(tasks) > 1:
        rows.append("<tr class='total'><th>all</th>" + "".join(f"<td>{v}</td>" for v in totals) + "</tr>")
    return (
        '<table class="stats"><thead><tr><th>task</th><th>samples</th>'
        f'{head}</tr><tr class="sub"><th></th><th></th><th colspan="3">failures by stage</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_meta(summary: Summary, missing_images: int) -> str:
    items = []
    if summary.models:
        items.append(("model", ", ".join(summary.models)))
    for task, h in summary.template_hashes.items():
        items.append((f"template {task}", h))
    if summary.filter_drops:
        drops = ", ".join(f"{k}: {v}" for k, v in sorted(summary.filter_drops.items(), key=lambda kv: -kv[1]))
        items.append((f"filter drops ({summary.filter_counts_from})", drops))
    shown = f"{summary.shown_samples} of {sum(summary.samples_by_task.values())} samples"
    if summary.shown_failures:
        shown += f", {summary.shown_failures} failure{'s' if summary.shown_failures != 1 else ''}"
    items.append(("shown", shown))
    if summary.invalid_records:
        items.append(("invalid records", str(summary.invalid_records)))
    if summary.judge_note:
        items.append(("judge", summary.judge_note))
    if summary.context_note:
        items.append(("contexts", summary.context_note))
    if summary.contexts_missing:
        items.append(("cards without context", str(summary.contexts_missing)))
    if missing_images:
        items.append(("images missing", str(missing_images)))
    return '<dl class="meta">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items) + "</dl>"


def render_controls(tasks: list[str], has_failures: bool) -> str:
    opts = '<option value="">all tasks</option>' + "".join(
        f'<option value="{esc(t)}">{esc(t)}</option>' for t in tasks
    )
    status = ["all", "unreviewed", "accepted", "rejected"] + (["failures"] if has_failures else [])
    sopts = "".join(f'<option value="{s}">{s}</option>' for s in status)
    return (
        '<nav class="controls">'
        f'<label>task <select id="task-filter">{opts}</select></label>'
        f'<label>show <select id="status-filter">{sopts}</select></label>'
        '<input id="search" type="search" placeholder="search text (/)" autocomplete="off">'
        '<label class="tick"><input id="show-boxes" type="checkbox" checked> boxes</label>'
        '<span id="visible-count" class="muted"></span>'
        '<span class="tally"><span id="n-accepted">0</span> accepted · <span id="n-rejected">0</span> rejected</span>'
        '<button type="button" id="download">download rejected ids</button>'
        '<span class="keys muted">j/k move · a accept · r reject · u undo · / search</span>'
        "</nav>"
    )


def render_page(
    cards: list[Card], refs: list[ImageRef | None], summary: Summary, *, missing_images: int = 0
) -> str:
    """The complete HTML document."""
    page_key = hashlib.sha256("\n".join([summary.source, *(c.key for c in cards)]).encode()).hexdigest()[:16]
    data = {"pageKey": page_key, "version": __version__, "batch": BATCH, **build_payload(cards, refs)}
    script = _asset("review.js")
    tasks = sorted({c.task for c in cards})
    empty = "" if cards else '<p class="empty">Nothing to review: the input has no samples.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{esc(csp(script))}">
<meta name="generator" content="datagen {esc(__version__)}">
<title>review: {esc(summary.source)}</title>
<style>{_asset("review.css")}</style>
</head><body>
<header class="top"><div class="title"><h1>datagen review</h1><code>{esc(summary.source)}</code></div>
<div class="summary">{render_stats(summary)}{render_meta(summary, missing_images)}</div>
</header>
{render_controls(tasks, any(c.kind == "failure" for c in cards))}
<noscript><p class="empty">The cards are drawn by this page's inline script: allow JavaScript for this file.</p></noscript>
<main id="cards">{empty}</main>
<div id="more" class="muted"></div>
<p id="no-match" class="empty" hidden>No card matches the filters.</p>
<script type="application/json" id="review-data">{script_json(data)}</script>
<script>{script}</script>
</body></html>
"""
