"""One commit point per request: every route that can change something goes
through the commit adapter, and no handler commits or rolls back itself."""

from __future__ import annotations

import ast
from pathlib import Path

from app.transactions import is_commit_point

ROOT = Path(__file__).resolve().parents[2]
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_state_changing_route_goes_through_the_commit_adapter(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if not CHANGING & set(rule.methods or ()):
            continue
        view = app.view_functions[rule.endpoint]
        if not is_commit_point(view):
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert missing == []


def test_the_url_map_has_state_changing_routes_to_check(app):
    changing = [r for r in app.url_map.iter_rules() if CHANGING & set(r.methods or ())]
    assert len(changing) > 40


def _transaction_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
    ]


def test_no_view_or_api_module_commits_or_rolls_back():
    found = []
    for folder in ("app/views", "app/api"):
        for path in sorted((ROOT / folder).glob("*.py")):
            found.extend(_transaction_calls(path))
    assert found == []


def test_services_never_commit():
    found = []
    for path in sorted((ROOT / "app/services").glob("*.py")):
        found.extend(c for c in _transaction_calls(path) if c.endswith("commit()"))
    assert found == []
