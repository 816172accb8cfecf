"""Audit report: `report.html`, one self-contained page (no script, nothing loaded from the network).

The headline figures (each linking to its worst examples further down), a table per group (task,
input, model), plots drawn with matplotlib and embedded as PNG data URIs, then the worst examples of
each kind as cards beside their images (`cards.py`, the review page's pieces) when `--images` is
given. Without matplotlib the page says so where the plots would be.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from datagen import __version__
from datagen.audit.cards import render_card
from datagen.audit.collect import Collected
from datagen.audit.inputs import Sample
from datagen.common.jsonio import write_text_atomic
from datagen.review.images import ImageResolver
from datagen.review.page import esc, stylesheet

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: file: blob:; base-uri 'none'; form-action 'none'"
KINDS = {
    "hallucination": ("Hallucinated objects", ["chair_s", "chair_i", "recall"]),
    "count": ("Wrong counts", ["count_wrong"]),
    "box": ("Boxes that match no annotation", ["box_unmatched"]),
    "hygiene": ("Format hygiene", ["hygiene"]),
    "near_dup": ("Near-duplicates", ["near_dup"]),
}
GROUP_COLUMNS = [
    "samples",
    "chair_s",
    "chair_i",
    "recall",
    "count_wrong",
    "box_unmatched",
    "hygiene",
    "near_dup",
]
_EXTRA_CSS = """
.page { max-width: 1500px; margin: 0 auto; padding: 10px 20px 60px; }
table.fig { border-collapse: collapse; font-size: 13px; margin: 6px 0 14px; }
table.fig th, table.fig td { padding: 2px 10px; border-bottom: 1px solid var(--line); text-align: right; }
table.fig th:first-child, table.fig td:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 14px; }
.plots img { max-width: 560px; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
ul.findings { margin: 4px 0 6px; padding-left: 18px; color: #8a2d2d; }
mark { background: #ffd9d2; padding: 0 2px; border-radius: 3px; }
h2 { font-size: 16px; margin: 22px 0 6px; }
"""


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def plots(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, PNG data URI) per plot; [] when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return []
    out = []

    def barh(title: str, items: list[tuple[str, float]], xlabel: str) -> None:
        if not items:
            return
        fig, ax = plt.subplots(figsize=(6, 0.28 * len(items) + 1.2))
        ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#3a63d8")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of samples, answers, questions
        ax.set_title(title)
        out.append((title, _png(fig)))

    barh(
        "Hallucinated categories (samples)", list(figures["hallucinated_categories"].items())[:15], "samples"
    )
    hist = figures["balance"]["answer_words"].get("histogram", {})
    barh("Answer length (words per answer)", list(hist.items()), "answers")  # in bin order, short on top
    top = figures["balance"]["question_types"]["top"][:15]
    barh("Question types (first two words)", [(q["first_words"], q["count"]) for q in top], "questions")
    tasks = {g.split(":", 1)[1]: f for g, f in figures["groups"].items() if g.startswith("task:")}
    if tasks:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        names = list(tasks)
        width = 0.8 / 3
        for i, key in enumerate(("chair_s", "hygiene", "near_dup")):
            ax.bar(
                [x + i * width for x in range(len(names))],
                [tasks[t].get(key) or 0 for t in names],
                width,
                label=key,
            )
        ax.set_xticks([x + width for x in range(len(names))], names, rotation=20, ha="right")
        ax.legend()
        ax.set_title("Per task")
        out.append(("Per task", _png(fig)))
    return out


def _headline(figures: dict[str, Any]) -> str:
    head = figures["headline"]
    links = {name: kind for kind, (_t, names) in KINDS.items() for name in names}
    rows = []
    for name, value in head.items():
        label = f'<a href="#ex-{links[name]}">{esc(name)}</a>' if name in links else esc(name)
        rows.append(f"<tr><td>{label}</td><td>{_fmt(value)}</td></tr>")
    return f'<table class="fig"><tbody>{"".join(rows)}</tbody></table>'


def _groups(figures: dict[str, Any]) -> str:
    head = "".join(f"<th>{c}</th>" for c in GROUP_COLUMNS)
    rows = [
        f"<tr><td>{esc(g)}</td>" + "".join(f"<td>{_fmt(f.get(c))}</td>" for c in GROUP_COLUMNS) + "</tr>"
        for g, f in figures["groups"].items()
    ]
    return f'<table class="fig"><thead><tr><th>group</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def write_report(
    path: Path, figures: dict[str, Any], col: Collected, samples: list[Sample], truth: Any, opts: Any
) -> Path:
    resolver = ImageResolver(opts.images, path.resolve().parent, embed=opts.embed) if opts.images else None
    drawn = plots(figures)
    plot_html = (
        "".join(f'<img alt="{esc(t)}" src="{src}">' for t, src in drawn)
        if drawn
        else "<p class=\"muted\">Plots need matplotlib: pip install 'datagen[audit]'.</p>"
    )
    sections = []
    for kind, (title, _names) in KINDS.items():
        uids = figures["examples"].get(kind, [])
        cards = []
        for uid in uids:
            s = samples[uid]
            ref = resolver.ref(s.image, f"{s.input}: {s.key}") if resolver and s.image else None
            cards.append(render_card(s, col.flags[uid], ref, truth.lookup(s), truth.captions_of(s)))
        body = "".join(cards) or '<p class="muted">None found.</p>'
        sections.append(f'<h2 id="ex-{kind}">{esc(title)}: worst {len(uids)}</h2>{body}')
    sources = ", ".join(i["path"] for i in figures["inputs"])
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">
<meta name="generator" content="datagen {esc(__version__)}">
<title>audit: {esc(sources)}</title>
<style>{stylesheet()}{_EXTRA_CSS}</style>
</head><body><div class="page">
<h1>datagen audit</h1><p class="muted">{esc(sources)} · ground truth: {esc("; ".join(figures["ground_truth"]))}</p>
<h2>Headline</h2>{_headline(figures)}
<h2>By group</h2>{_groups(figures)}
<h2>Plots</h2><div class="plots">{plot_html}</div>
{"".join(sections)}
<p class="muted">Every sample's findings: flags.jsonl beside this page (one line per sample, by uid).</p>
</div></body></html>
"""
    write_text_atomic(path, html)
    return path
