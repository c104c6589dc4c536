"""The start page: the shipped curricula and what they look like as a plan."""

from __future__ import annotations

from flask import Blueprint, render_template

from curricula.shipped import shipped
from curricula.timeline import nominal_layout

bp = Blueprint("start", __name__)


@bp.get("/")
def index() -> str:
    curricula = sorted(shipped().values(), key=lambda c: c.key)
    layouts = {c.key: nominal_layout(c) for c in curricula}
    return render_template("start.html", curricula=curricula, layouts=layouts)


@bp.get("/health")
def health() -> tuple[dict[str, str], int]:
    """For load balancers: the process answers (no database, no session)."""
    return {"status": "ok"}, 200
