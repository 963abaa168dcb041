"""The house as ``docs/architecture.md`` draws it is the house the code builds.

The layers of ``pyproject.toml``'s import-linter contracts hold for the whole tree, every
import counted, those inside functions too: an import moved into a function does not get
past the contract. The diagram in the architecture document is drawn from the imports,
so this test fails, printing the new diagram, when the code and the picture part.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
VALUES = ("result", "errors", "redact", "durations")
"""The bottom layer's modules, drawn as one node."""


def test_every_import_contract_is_kept() -> None:
    # In a process of its own: import-linter reconfigures logging, which would silence
    # every logger that the tests after it read through caplog.
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--config", "pyproject.toml", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _room(module: str) -> str | None:
    """The node of the diagram a module belongs to (None: the package roots)."""
    parts = module.split(".")
    if parts[0] == "providers":
        return "providers"
    if len(parts) == 1 or parts[1] == "__main__":
        return None
    return "values" if parts[1] in VALUES else parts[1]


def _reduced(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The arrows no longer way implies (the transitive reduction of an acyclic graph)."""
    after: dict[str, set[str]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)

    def reachable(start: str, skip: tuple[str, str]) -> set[str]:
        seen: set[str] = set()
        todo = [b for b in after.get(start, ()) if (start, b) != skip]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(after.get(node, ()))
        return seen

    return {(a, b) for a, b in edges if b not in reachable(a, (a, b))}


def drawn_from_the_code() -> str:
    """The Mermaid diagram of the packages and the imports between them."""
    graph = grimp.build_graph("harness", "providers")
    edges = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _room(module), _room(imported)
            if a and b and a != b:
                edges.add((a, b))
    lines = ["flowchart TD"]
    lines += [f"    {a} --> {b}" for a, b in sorted(_reduced(edges))]
    return "\n".join(lines)


def test_the_architecture_diagram_is_drawn_from_the_code() -> None:
    document = ARCHITECTURE.read_text(encoding="utf-8")
    drawn = re.search(r"```mermaid\n(.*?)\n```", document, re.DOTALL)
    assert drawn is not None, "docs/architecture.md has no ```mermaid block"
    expected = drawn_from_the_code()
    assert drawn[1] == expected, f"redraw the diagram in docs/architecture.md:\n{expected}"
