"""`datagen audit --compare A B --out DIR`: two inputs side by side (our run vs LLaVA-Instruct,
text-only vs a VLM run), every figure with its difference B − A.

Each side is audited in full into `DIR/a/` and `DIR/b/` (audit.json, flags.jsonl, report.html); then
`DIR/compare.json` holds every numeric figure of both audits, flattened to dotted names
(`headline.chair_s`, `groups.task:conversation.hygiene`, `balance.yes_no.yes_share`), with
`a`, `b` and `diff`, and `DIR/compare.html` shows them as one table. `--fail-on` applies to both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.audit.run import AuditOptions, AuditResult, run_audit
from datagen.audit.truth import TruthSpec
from datagen.common.jsonio import write_json_atomic, write_text_atomic
from datagen.review.page import esc, stylesheet

_SKIP = ("examples", "near_duplicates.top_clusters", "inputs", "options", "ground_truth")


def flatten(obj: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a nested dict, by dotted path (lists, examples and clusters left out)."""
    out: dict[str, float] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if path.startswith(_SKIP):
                continue
            out.update(flatten(v, path))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix] = obj
    return out


@dataclass
class CompareResult:
    a: AuditResult
    b: AuditResult
    rows: list[dict[str, Any]]
    written: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def table(self) -> Any:
        from rich.table import Table

        table = Table(
            title=f"A = {self.a.figures['inputs'][0]['path']}   B = {self.b.figures['inputs'][0]['path']}"
        )
        for c, j in (("figure", "left"), ("A", "right"), ("B", "right"), ("B − A", "right")):
            table.add_column(c, justify=j)  # type: ignore[arg-type]
        for r in self.rows:
            if r["figure"].startswith("headline."):
                table.add_row(
                    r["figure"].removeprefix("headline."), *(_fmt(r[k]) for k in ("a", "b", "diff"))
                )
        return table


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:+.4g}" if isinstance(v, float) and v != int(v) else f"{v:g}"


def compare_figures(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    fa, fb = flatten(a), flatten(b)
    names = list(fa) + [n for n in fb if n not in fa]
    rows: list[dict[str, Any]] = []
    for n in names:
        va, vb = fa.get(n), fb.get(n)
        diff = round(vb - va, 6) if va is not None and vb is not None else None
        rows.append({"figure": n, "a": va, "b": vb, "diff": diff})
    rows.sort(key=lambda r: (not r["figure"].startswith("headline."), r["figure"]))
    return rows


def run_compare(a: Path, b: Path, truth: TruthSpec, out: Path, opts: AuditOptions) -> CompareResult:
    ra = run_audit([a], truth, out / "a", opts)
    rb = run_audit([b], truth, out / "b", opts)
    rows = compare_figures(ra.figures, rb.figures)
    result = CompareResult(
        ra, rb, rows, failed=[f"A: {x}" for x in ra.failed] + [f"B: {x}" for x in rb.failed]
    )
    write_json_atomic(out / "compare.json", {"a": str(a), "b": str(b), "figures": rows})
    body = "".join(
        f"<tr><td>{esc(r['figure'])}</td><td>{_cell(r['a'])}</td><td>{_cell(r['b'])}</td><td>{_cell(r['diff'])}</td></tr>"
        for r in rows
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>audit compare</title><style>{stylesheet()} td, th {{ padding: 2px 10px; text-align: right; }}"
        " td:first-child { text-align: left; font-family: monospace; }</style></head><body><main>"
        f'<h1>datagen audit: A vs B</h1><p>A = {esc(str(a))} (<a href="a/report.html">report</a>) · '
        f'B = {esc(str(b))} (<a href="b/report.html">report</a>)</p>'
        f"<table><thead><tr><th>figure</th><th>A</th><th>B</th><th>B − A</th></tr></thead><tbody>{body}</tbody></table>"
        "</main></body></html>"
    )
    write_text_atomic(out / "compare.html", html)
    result.written = [*ra.written, *rb.written, out / "compare.json", out / "compare.html"]
    return result


def _cell(v: Any) -> str:
    return "–" if v is None else esc(f"{v:.4g}" if isinstance(v, float) else str(v))
