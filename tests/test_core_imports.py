"""The core knows no transport: domain, store and services import no HTTP, AWS SDK or mocking library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_LAYERS = ("domain", "store", "services")
CORE_DIRS = [ROOT / "ecr_mock" / layer for layer in CORE_LAYERS]
CORE_PREFIXES = tuple(f"ecr_mock.{layer}" for layer in ("domain", "store", "services"))
FORBIDDEN = ("werkzeug", "botocore", "boto3", "requests", "responses", "moto")


def _imported_modules(path: Path) -> set[str]:
    """Every absolute module a source file imports, at any depth (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


CORE_FILES = sorted(path for folder in CORE_DIRS for path in folder.rglob("*.py"))


def test_core_has_source_files() -> None:
    assert all((folder / "__init__.py") in CORE_FILES for folder in CORE_DIRS)
    assert len(CORE_FILES) > 3


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_source_imports_no_transport_library(path: Path) -> None:
    offending = sorted(m for m in _imported_modules(path) if _forbidden(m))
    assert offending == []


def test_core_source_imports_only_stdlib_and_core() -> None:
    """A new third-party dependency of the core is a design decision, not an accident."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    outside: dict[str, list[str]] = {}
    for path in CORE_FILES:
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top not in stdlib and not module.startswith(CORE_PREFIXES):
                outside.setdefault(str(path.relative_to(ROOT)), []).append(module)
    assert outside == {}


def test_importing_core_loads_no_transport_library() -> None:
    # The parent package is replaced by an empty stand-in so only the core's own imports count.
    code = f"""
import importlib, json, pkgutil, sys, types
parent = types.ModuleType("ecr_mock")
parent.__path__ = [{str(ROOT / "ecr_mock")!r}]
sys.modules["ecr_mock"] = parent
for layer in {CORE_LAYERS!r}:
    package = importlib.import_module("ecr_mock." + layer)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# ----- the layers: adapters, providers, hooks ----------------------------------------------------

PACKAGE = ROOT / "ecr_mock"
SERVICES = PACKAGE / "services"


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _imports_under(folder: Path, prefix: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in _files(folder):
        hits = sorted(
            m for m in _imported_modules(path) if m == prefix or m.startswith(prefix + ".")
        )
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    return found


def test_services_never_import_the_public_face() -> None:
    """Services are functions over the Store; Backend wraps them, never the other way round."""
    found = _imports_under(SERVICES, "ecr_mock.services.backend")
    found.pop("ecr_mock/services/backend.py", None)
    assert found == {}


@pytest.mark.parametrize(
    ("adapter", "forbidden"),
    [
        ("protocols/ecr_api", "ecr_mock.protocols.registry"),
        ("protocols/registry", "ecr_mock.protocols.ecr_api"),
        ("protocols/ecr_api", "ecr_mock.runtime.intercept"),
        ("protocols/registry", "ecr_mock.runtime.intercept"),
        ("protocols/ecr_api", "ecr_mock.runtime.providers"),
        ("protocols/registry", "ecr_mock.runtime.providers"),
        ("domain", "ecr_mock.runtime.providers"),
        ("store", "ecr_mock.runtime.providers"),
        ("services", "ecr_mock.runtime.providers"),
        ("runtime/providers", "ecr_mock.protocols.ecr_api"),
        ("runtime/providers", "ecr_mock.protocols.registry"),
    ],
)
def test_layers_do_not_reach_across(adapter: str, forbidden: str) -> None:
    assert _imports_under(PACKAGE / adapter, forbidden) == {}


def _module_level_calls(path: Path) -> list[str]:
    """Bare calls at module level (``register(x)``): registration done by importing."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return calls


def test_nothing_registers_itself_at_import_time() -> None:
    modules = [path for path in _files(PACKAGE) if path.name != "__main__.py"]
    calls = [call for path in modules for call in _module_level_calls(path)]
    # The one exception: importing the package lets the paths modules had before the layers
    # import (ecr_mock._moved), so that code written against them keeps working.
    assert [call for call in calls if not call.startswith("ecr_mock/__init__.py:")] == []
    assert len(calls) == 1


def test_serving_the_api_installs_no_provider_by_importing() -> None:
    """Providers are installed by the faces; the adapters do not load them."""
    code = """
import json, sys
import ecr_mock.protocols.ecr_api.dispatch, ecr_mock.protocols.registry.app
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ecr_mock.runtime.providers"))))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_every_domain_error_lives_in_domain_errors() -> None:
    """One place lists every ECR error the core raises (the adapters' tables map them)."""
    from ecr_mock.domain import errors

    outside = []
    for path in _files(PACKAGE):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and path != PACKAGE / "domain" / "errors.py":
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                if bases & {name for name in vars(errors) if name[:1].isupper()}:
                    outside.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert outside == []


ADAPTER_CORE_IMPORTS = (
    "ecr_mock.services",
    "ecr_mock.domain.errors",
    "ecr_mock.domain.models",
    "ecr_mock.store.calls",
    "ecr_mock.store.fault_rules",
)
"""All an adapter may import from the core: services (submodules included), errors, models, and
the call record and fault rules they fill and consult."""


@pytest.mark.parametrize("adapter", ["protocols/ecr_api", "protocols/registry"])
def test_adapters_import_only_services_errors_and_models_from_the_core(adapter: str) -> None:
    """Adapters call services; the core's internals (backend, names, manifests, ...) stay inside."""
    outside: dict[str, list[str]] = {}
    found: dict[str, list[str]] = {}
    for layer in CORE_LAYERS:
        for path, modules in _imports_under(PACKAGE / adapter, "ecr_mock." + layer).items():
            found.setdefault(path, []).extend(modules)
    for path, modules in found.items():
        wrong = [
            m
            for m in modules
            if not any(
                m == allowed or m.startswith(allowed + ".") for allowed in ADAPTER_CORE_IMPORTS
            )
        ]
        if wrong:
            outside[path] = wrong
    assert outside == {}


_REGISTRATION_PROBE = """
import importlib, json, pkgutil, sys
import ecr_mock
names = sorted(
    info.name
    for info in pkgutil.walk_packages(ecr_mock.__path__, "ecr_mock.")
    if not info.name.endswith("__main__")
)
if sys.argv[1] == "reverse":
    names.reverse()


def sizes():
    out = {}
    for module_name, module in list(sys.modules.items()):
        if module_name == "ecr_mock" or module_name.startswith("ecr_mock."):
            for key, value in list(vars(module).items()):
                if isinstance(value, (dict, list, set)) and not key.startswith("__"):
                    out[(module_name, key)] = len(value)
    return out


found = []
for name in names:
    before = sizes()
    importlib.import_module(name)
    after = sizes()
    for (module_name, key), size in before.items():
        if after[(module_name, key)] != size and not name.startswith(module_name + "."):
            found.append(f"importing {name} changes {module_name}.{key}")
print(json.dumps(found))
"""


@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_importing_a_module_fills_no_other_modules_table(order: str) -> None:
    """No module-level registration: importing a module leaves every other module's dicts, lists
    and sets as they were (tables are built explicitly, on first use)."""
    result = subprocess.run(
        [sys.executable, "-c", _REGISTRATION_PROBE, order],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# ----- the layers, bottom to top, and no cycle ---------------------------------------------------

LAYERS = ("domain", "store", "services", "protocols", "runtime", "testing", "cli")
"""Each layer imports only from its own and lower ones."""

_LAYER_OF_TOP_MODULES = {
    "ecr_mock.server": "runtime",
    "ecr_mock.cli": "cli",
    "ecr_mock.cli_env": "cli",  # ECR_MOCK_* variables for the command's options
    "ecr_mock.listing": "cli",  # ecr-mock ls
    "ecr_mock.cli_check": "cli",  # ecr-mock check
    "ecr_mock.__main__": "cli",
    "ecr_mock._version": "domain",
}
_FACADES = {"ecr_mock", "ecr_mock._moved"}
"""The package's public face and the old paths: they name every layer, nothing imports them."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in _files(PACKAGE)}


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> str | None:
    if module in _FACADES:
        return None
    if module in _LAYER_OF_TOP_MODULES:
        return _LAYER_OF_TOP_MODULES[module]
    layer = module.split(".")[1]
    assert layer in LAYERS, f"{module} is in no layer"
    return layer


def _own_imports(path: Path, *, module_level: bool) -> set[str]:
    """The ecr_mock modules ``path`` imports: at module level (TYPE_CHECKING blocks included),
    or anywhere (functions included). ``from package import module`` names the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes: list[ast.AST] = []
    if module_level:
        stack: list[ast.AST] = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If | ast.Try):
                stack.extend(ast.iter_child_nodes(node))
            else:
                nodes.append(node)
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name) if name.startswith("ecr_mock") else None
            if target is not None and target != _module_name(path):
                found.add(target)
    return found


def test_every_module_is_in_a_layer() -> None:
    assert {_layer(module) for module in MODULES} - {None} == set(LAYERS)


def test_there_is_no_import_cycle() -> None:
    """Counting module-level and TYPE_CHECKING imports (a cycle of either breaks the layers)."""
    graph = {module: _own_imports(path, module_level=True) for module, path in MODULES.items()}
    cycles = []
    done: set[str] = set()
    for start in sorted(graph):
        # depth-first search for a path back to ``start`` through modules not yet done
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, trail = stack.pop()
            for target in sorted(graph[node]):
                if target == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif target not in seen and target not in done:
                    seen.add(target)
                    stack.append((target, [*trail, target]))
        done.add(start)
    assert cycles == []


_ERRORS_PROBE = """
import importlib, inspect, json, pkgutil
import ecr_mock
found = []
for info in pkgutil.walk_packages(ecr_mock.__path__, "ecr_mock."):
    if info.name.endswith("__main__"):
        continue
    module = importlib.import_module(info.name)
    for name, value in vars(module).items():
        if inspect.isclass(value) and issubclass(value, BaseException):
            if value.__module__ == info.name:
                found.append([info.name, name])
print(json.dumps(found))
"""


def test_every_exception_class_lives_in_an_errors_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _ERRORS_PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    defined = json.loads(result.stdout)
    assert len(defined) > 10
    # wire.py's FramingError moves with the HTTP rules into the runtime's http package.
    outside = [
        f"{module}.{name}"
        for module, name in defined
        if not module.rpartition(".")[2].endswith("errors") and module != "ecr_mock.wire"
    ]
    assert outside == []


def test_each_layer_imports_only_its_own_and_lower_layers() -> None:
    upward: list[str] = []
    for module, path in sorted(MODULES.items()):
        layer = _layer(module)
        if layer is None:
            continue
        for target in sorted(_own_imports(path, module_level=False)):
            target_layer = _layer(target)
            if target_layer is None or LAYERS.index(target_layer) > LAYERS.index(layer):
                upward.append(f"{module} ({layer}) -> {target} ({target_layer})")
    assert upward == []


FUNCTION_LEVEL_IMPORT_SEAMS = 54
"""At most this many imports of the package's own modules inside functions. They are lazy seams:
the IAM policy engine (access, policies, admin), scanning, the lifecycle scheduler, seeding,
the state directory, the registry app, the server's apps, the control routes, TLS, and the
commands of the command line. The aim is 15; the bound only comes down."""


def test_function_level_imports_of_own_modules_stay_few() -> None:
    found = []
    for module, path in sorted(MODULES.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.ImportFrom)
                        and inner.level == 0
                        and (inner.module or "").startswith("ecr_mock")
                    ) or (
                        isinstance(inner, ast.Import)
                        and any(a.name.startswith("ecr_mock") for a in inner.names)
                    ):
                        found.append(f"{module}:{inner.lineno}")
    assert len(set(found)) <= FUNCTION_LEVEL_IMPORT_SEAMS, sorted(set(found))
