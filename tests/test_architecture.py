"""The house's floor plan, checked: wings never import each other, and no module imports itself in a circle.

The ground floor (config, engines, the model layer, training, checkpoints, ...) serves
every wing; the wings (the assistant, the serving hacks, the lab, the tour, the web
kitchen) each stand on it alone, and only the command line (omakase/cli) may call
several. What two wings share moves down a floor. Imports inside functions count
too: a lazy import hides a circle from Python, not from a reader.
"""

import ast
from pathlib import Path

import omakase

PACKAGE = Path(omakase.__file__).parent
WINGS = ("assistant", "serving", "lab", "tour", "web")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str) -> set[str]:
    """Every omakase module `name` imports, at the top or inside a function."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("omakase"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("omakase"):
                continue
            for alias in node.names:  # `from . import x` imports the module x when there is one
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def wing(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in WINGS else None


def test_no_wing_imports_another():
    crossings = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                       if wing(a) and wing(b) and wing(a) != wing(b))
    assert crossings == []


def test_the_ground_floor_imports_no_wing_and_no_command():
    upward = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() if not wing(a) and not a.startswith(("omakase.cli", "omakase.__main__"))
                    for b in targets if wing(b) or b.startswith("omakase.cli"))
    assert upward == []


def test_no_import_circle():
    """Depth-first search for a back edge; a package's own __init__ importing its modules is not a circle
    unless one of them imports the package back."""
    circles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == "open":
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_walk_sees_lazy_imports_and_relative_ones():
    # tests that guard nothing pass by construction: check the walker finds what is there
    assert "omakase.errors" in GRAPH["omakase.checkpoint"]
    lazy = [n for n, p in MODULES.items() if "\n        from ." in p.read_text(encoding="utf-8")]
    assert lazy and all(GRAPH[n] for n in lazy)
