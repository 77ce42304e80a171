"""The import graph the architecture promises (docs/architecture.md): the ground floor imports no
domain app, and no two domain apps import each other (a rule change in one would ripple back).
Within the ground floor the layers go one way: ``core`` imports neither ``audit`` nor
``accounts``, and ``audit`` does not import ``accounts`` (accounts writes audit events; each
lower layer learns what it needs from a higher one through a hook registered at start). The
top floor, ``config``, assembles the apps (settings, the APIs, the URLs): no app imports it."""

import ast
from itertools import combinations
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GROUND_FLOOR = ("core", "accounts", "audit")
# The ground floor's layers, lowest first: each imports only the ones before it.
GROUND_LAYERS = ("core", "audit", "accounts")
DOMAIN = ("studies", "reports", "analysis", "nlp", "ingest", "practice", "operations", "web")
TOP_FLOOR = "config"


def _imports(app: str) -> dict[str, list[str]]:
    """The project packages ``app`` imports (at any depth of its code but migrations), each with
    the files that do."""
    found: dict[str, list[str]] = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != app and top in (*GROUND_FLOOR, *DOMAIN, TOP_FLOOR):
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("app", GROUND_FLOOR)
def test_the_ground_floor_imports_no_domain_app(app):
    assert {k: v for k, v in _imports(app).items() if k in DOMAIN} == {}


def _loops(packages: tuple[str, ...]) -> list[tuple[str, str, list[str], list[str]]]:
    """The pairs of ``packages`` that import each other, with the files that do."""
    graph = {app: _imports(app) for app in packages}
    return [
        (a, b, graph[a][b], graph[b][a])
        for a, b in combinations(packages, 2)
        if b in graph[a] and a in graph[b]
    ]


def test_no_two_domain_apps_import_each_other():
    assert _loops(DOMAIN) == []


@pytest.mark.parametrize("app", GROUND_LAYERS)
def test_the_ground_floor_imports_only_its_lower_layers(app):
    higher = GROUND_LAYERS[GROUND_LAYERS.index(app) + 1 :]
    assert {k: v for k, v in _imports(app).items() if k in higher} == {}


def test_no_two_packages_import_each_other():
    assert _loops(GROUND_FLOOR + DOMAIN) == []


@pytest.mark.parametrize("app", GROUND_FLOOR + DOMAIN)
def test_no_app_imports_the_top_floor(app):
    # Settings are read through django.conf.settings; what two apps share lives in the lower one.
    assert _imports(app).get(TOP_FLOOR) is None
