"""The package's shape: stages import downwards, never in a circle, never the CLI from a library
module, the project's own modules at module top, kernels free of simulator, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simulator"
KERNELS = ROOT / "kernels"
MAX_LINES = 400


def module_name(path: Path) -> str:
    if path.is_relative_to(KERNELS):
        parts = ("simulator", "kernels", *path.relative_to(KERNELS).with_suffix("").parts)
    else:
        parts = ("simulator", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in [*PACKAGE.rglob("*.py"), *KERNELS.rglob("*.py")]}


KNOWN = set(modules())


def imports(path: Path, name: str) -> list[tuple[str, bool]]:
    """(imported project module, at module top?) for every import of ``path``."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    found = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in KNOWN else base for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for target in targets:
            if target == "simulator" or target.startswith("simulator."):
                found.append((target, id(node) in top))
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, _ in imports(path, name):
            if target in known and target != name:
                edges[name].add(target)
    return edges


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_project_imports_are_at_module_top():
    inside = [(name, target) for name, path in modules().items() for target, top in imports(path, name) if not top]
    # the one optional extra: Dask's backend is imported when a run asks for it
    allowed = {("simulator.cli.run", "simulator.pipeline.dask_backend"),
               ("simulator.cli.run", "simulator.pipeline.dask_backend.DaskBackend")}
    assert [pair for pair in inside if pair not in allowed] == []


def test_modules_imported_by_name_are_the_public_api_and_the_commands():
    """Three tables name modules that are imported when first used: the package's public names
    (``simulator.__init__``), the commands (``simulator.cli.app.COMMANDS``) and the kernels compiled
    into the wheel (``simulator/compiled/signatures.txt``, read by ``simulator.compiled.warmup``);
    nothing else imports a project module by name, and the tables name only modules that exist."""
    import simulator
    from simulator.cli.app import COMMANDS
    from simulator.compiled.warmup import SIGNATURES

    by_name = sorted(name for name, path in modules().items() if "import_module(" in path.read_text())
    assert by_name == ["simulator", "simulator.cli.app", "simulator.compiled.warmup"]
    assert set(COMMANDS.values()) <= KNOWN and set(simulator._PUBLIC.values()) <= KNOWN
    compiled = {line.split(":")[0] for line in SIGNATURES.read_text().splitlines()}
    assert compiled and compiled <= KNOWN and all(m.startswith("simulator.kernels.") for m in compiled)
    assert all(m.startswith("simulator.cli.") for m in COMMANDS.values())


def test_no_library_module_imports_the_cli():
    offenders = [(name, target) for name, path in modules().items() if not name.startswith("simulator.cli")
                 and name != "simulator.__main__" for target, _ in imports(path, name)
                 if target.startswith("simulator.cli")]
    assert offenders == []


def test_kernels_import_only_kernels():
    for name, path in modules().items():
        if name.startswith("simulator.kernels"):
            assert all(t.startswith("simulator.kernels") for t, _ in imports(path, name)), name
            text = path.read_text()
            assert "geopandas" not in text and "shapely" not in text and "open(" not in text, name


def test_stages_import_downwards():
    """A stage imports only stages before it on the path scenario -> inputs -> engine -> release ->
    results -> outputs -> studies -> the orchestrator, the API and the CLI."""
    order = ["errors", "kernels", "config", "inputs", "engine", "release", "results", "outputs", "pipeline", "rerun",
             "studies", "api", "cli"]

    def stage(module: str) -> int:
        part = module.split(".")[1] if "." in module else ""
        return order.index(part) if part in order else -1

    upward = [(a, b) for a, targets in graph().items() for b in targets
              if stage(a) >= 0 and stage(b) > stage(a) and not (a.startswith("simulator.pipeline.runner") and
                                                               stage(b) <= order.index("results"))]
    assert upward == []


def test_modules_are_small():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_policy_name_has_a_policy():
    from simulator.config.clearance import POLICY_NAMES
    from simulator.release.policies import POLICIES

    assert tuple(POLICIES) == POLICY_NAMES


def test_every_package_is_installed():
    """A wheel holds exactly the packages of the tree: pyproject.toml lists each one."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {module_name(p) for p in PACKAGE.rglob("__init__.py")} | {"simulator.kernels"}
    assert present - listed == set()
