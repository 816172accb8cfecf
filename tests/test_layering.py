"""The package tree is the data flow, and imports point one way along it (docs/architecture.md).

Every module's imports are read with `ast` (including imports inside functions, which run later
but still tie the modules together) and checked against the stage order below; a cycle, an import
against the order, or the HTTP/LLM libraries outside `llm/` fail with the offending lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "datagen"

# Lower layers never import higher ones. Stages on one layer do not import each other, except for
# the pairs in SIDEWAYS.
LAYERS: list[set[str]] = [
    {"errors", "records", "__version__"},
    {"common", "rundir"},
    {"prompts", "sources", "llm"},
    {"tasks"},
    {"engine", "export", "review", "cc3m", "adapter", "audit"},
    {"commands", "cli", "__main__"},
]
SIDEWAYS = {
    ("records", "errors"),
    ("rundir", "common"),
    ("adapter", "export"),
    ("audit", "review"),  # the audit report draws its cards with the review page's pieces
    ("__main__", "cli"),
    ("cli", "commands"),
}
LLM_ONLY = {"openai", "tenacity", "httpx", "httpx2", "aiohttp", "requests", "urllib3"}
RAY_ONLY = {"ray"}  # only the `--executor ray` modules (`ray_*.py`), so nothing else pays its import
MAX_TOP_LEVEL_MODULES = 6
MAX_LINES = 320


def _stage(module: str) -> str:
    """`datagen.engine.runner` → `engine`; `datagen.cli` → `cli`; `datagen` → `__version__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__version__"


def _layer(stage: str) -> int:
    for i, layer in enumerate(LAYERS):
        if stage in layer:
            return i
    raise AssertionError(f"stage '{stage}' is on no layer: add it to LAYERS in {__file__}")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in `path`, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base == "datagen":  # `from datagen import __version__`
                found += [
                    (node.lineno, f"datagen.{a.name}" if a.name != "__version__" else "datagen")
                    for a in node.names
                ]
            else:
                found.append((node.lineno, base))
    return found


def test_imports_follow_the_stage_order():
    problems = []
    for module, path in _modules().items():
        here = _stage(module)
        for line, target in _imports(path, module):
            if not target.startswith("datagen"):
                continue
            there = _stage(target)
            if there == here:
                continue
            lo, hi = _layer(here), _layer(there)
            if hi > lo or (hi == lo and (here, there) not in SIDEWAYS):
                problems.append(f"{path.relative_to(PKG.parent)}:{line}: {here} imports {target}")
    assert not problems, "imports against the stage order:\n" + "\n".join(problems)


def test_no_import_cycles_between_modules():
    mods = _modules()
    graph = {m: {t for _, t in _imports(p, m) if t in mods and t != m} for m, p in mods.items()}
    # A package's __init__ is imported before its submodules, so an edge into a package counts.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*stack[stack.index(t) :], t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_http_and_llm_libraries_only_in_llm():
    problems = []
    for module, path in _modules().items():
        if _stage(module) == "llm":
            continue
        for line, target in _imports(path, module):
            if target.split(".")[0] in LLM_ONLY:
                problems.append(f"{path.relative_to(PKG.parent)}:{line}: imports {target}")
    assert not problems, "only datagen/llm/ may talk HTTP:\n" + "\n".join(problems)


def test_ray_only_in_the_ray_executor_modules():
    problems = []
    for module, path in _modules().items():
        if path.name.startswith("ray_"):
            continue
        for line, target in _imports(path, module):
            if target.split(".")[0] in RAY_ONLY:
                problems.append(f"{path.relative_to(PKG.parent)}:{line}: imports {target}")
    assert not problems, "only datagen/**/ray_*.py may import Ray:\n" + "\n".join(problems)


def test_importing_the_cli_does_not_import_ray():
    import subprocess
    import sys

    code = "import sys, datagen.cli, datagen.engine.generate; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_few_modules_at_the_top_and_none_too_long():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    long = [
        f"{p.relative_to(PKG.parent)}: {n}"
        for p in PKG.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert not long, "modules over ~300 lines (split them by job):\n" + "\n".join(long)


@pytest.mark.parametrize(
    "stage", sorted(set().union(*LAYERS) - {"__version__", "cli", "__main__", "errors", "records"})
)
def test_every_stage_folder_says_what_it_does(stage):
    init = PKG / stage / "__init__.py"
    assert init.exists(), f"datagen/{stage}/ needs an __init__.py"
    assert ast.get_docstring(ast.parse(init.read_text())), (
        f"datagen/{stage}/__init__.py: say what this stage does"
    )
