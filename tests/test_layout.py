"""The layering of index/, enforced: the law imports neither retrieval nor presentation, and nothing imports ingest.

Parsed from the source (no imports run), the way datasette's tests keep its docs honest:
a module that reaches upwards fails here, not in a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# what each layer may import from RegKB; the top level (model, config, analysis) is open to all
ALLOWED = {
    "index.law": {"index.model", "index.analysis", "index.law"},
    "index.retrieval": {"index.model", "index.analysis", "index.config", "index.law", "index.retrieval"},
    "index.assessment": {"index.model", "index.analysis", "index.config", "index.law", "index.retrieval",
                         "index.assessment"},
    "index.answers": {"index.model", "index.analysis", "index.config", "index.law", "index.retrieval",
                      "index.assessment", "index.answers"},
    "index.analysis": set(),
    "index.model": set(),
    "index.config": set(),
    "index.feedback": {"index.model", "index.analysis", "index.law", "index.storage"},
    "index.querylog": {"index.storage"},
    "index.storage": set(),
}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def regkb_imports(path: Path) -> set[str]:
    """The RegKB modules a file imports, wherever the import stands (functions and TYPE_CHECKING included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] in {"index", "ingest"} and _is_module(n))
    return found


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


INDEX_MODULES = sorted(p for p in (ROOT / "index").rglob("*.py") if p.name != "__init__.py")
GRAPH = {module_name(p): regkb_imports(p) for p in [*INDEX_MODULES, *sorted((ROOT / "ingest").rglob("*.py"))]}


def layer_of(module: str) -> str | None:
    return next((layer for layer in sorted(ALLOWED, key=len, reverse=True)
                 if module == layer or module.startswith(layer + ".")), None)


@pytest.mark.parametrize("module", [m for m in GRAPH if layer_of(m)])
def test_each_module_imports_only_the_layers_below_it(module: str) -> None:
    allowed = ALLOWED[layer_of(module)]
    upward = sorted(i for i in GRAPH[module] if not any(i == a or i.startswith(a + ".") for a in allowed))
    assert not upward, f"{module} imports {upward}; {layer_of(module)} may import only {sorted(allowed)}"


def test_nothing_in_index_imports_ingest() -> None:
    offenders = {m: sorted(i for i in GRAPH[m] if i.startswith("ingest")) for m in GRAPH if m.startswith("index")}
    assert not {m: i for m, i in offenders.items() if i}


def test_there_is_no_import_circle() -> None:
    def visit(module: str, trail: tuple[str, ...]) -> None:
        for imported in GRAPH.get(module, ()):
            assert imported not in trail, f"import circle: {' -> '.join([*trail, imported])}"
            if imported not in done:
                visit(imported, (*trail, imported))
        done.add(module)

    done: set[str] = set()
    for module in GRAPH:
        visit(module, (module,))


def test_the_readme_layout_names_every_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(ROOT)) for p in INDEX_MODULES if p.name not in readme]
    assert not missing, f"README's Layout section does not mention {missing}"
