"""The module graph has no cycle, even through `if TYPE_CHECKING:` imports, and the core imports no chat SDK.

A cycle that only type checkers follow still ties two modules together: neither can be read, moved
or tested without the other. Imports inside functions (lazy imports) are not edges: they run after
both modules are loaded, and are how heavy dependencies stay off the `search` path.
"""

from __future__ import annotations

import ast
from pathlib import Path

import quotecore

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"bots": ROOT / "bots", "quotecore": ROOT / "src" / "quotecore"}


def modules() -> dict[str, Path]:
    """Every module of quotebot's own packages, by dotted name."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module loads, or that a type checker reads: module level and its `if` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If | ast.Try):
            pending += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
            pending += [s for handler in getattr(node, "handlers", []) for s in handler.body]
    return found


def edges(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The own modules `name` imports; `from quotecore import X` points at the module that defines X."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            target = f"{base}.{alias.name}"
            if target in known:
                out.add(target)
            elif base == "quotecore" and alias.name in quotecore._EXPORTS:
                out.add(quotecore._EXPORTS[alias.name])
            elif base in known and base != name:
                out.add(base)
    out.discard(name)
    return out


def test_no_import_cycle_even_for_type_checkers() -> None:
    known = modules()
    graph = {name: edges(name, path, known) for name, path in known.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_the_core_imports_no_chat_sdk_and_nothing_of_the_bots() -> None:
    forbidden = ("discord", "slack_bolt", "slack_sdk", "apscheduler", "aiohttp", "bots")
    for name, path in modules().items():
        if not name.startswith("quotecore"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in forbidden for n in names), f"{name} imports {names}"
