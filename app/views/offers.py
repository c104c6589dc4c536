"""The link in a waiting-list offer: the person, who has no account, sees
the place offered and accepts or declines it (app.services.waiting_lists).
The link works once: answered, expired or unknown, it answers 404."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app import transactions
from app.services import waiting_lists

bp = Blueprint("offers", __name__)


class AnswerForm(FlaskForm):  # type: ignore[misc]
    """A button that answers the offer: only the CSRF token."""


@bp.get("/offer/<token>")
def answer(token: str) -> str:
    registration = waiting_lists.offer_of(token)
    if registration is None:
        abort(404)
    return render_template(
        "offers/answer.html",
        token=token,
        registration=registration,
        expired=registration.offer_expires_at is not None
        and registration.offer_expires_at <= datetime.now(UTC),
        form=AnswerForm(),
    )


@bp.post("/offer/<token>/accept")
@transactions.web(back=lambda token, **_: f"/offer/{token}")
def accept(token: str) -> ResponseReturnValue:
    _checked(token)
    registration = waiting_lists.accept_offer(token)
    return render_template("offers/answered.html", registration=registration, accepted=True)


@bp.post("/offer/<token>/decline")
@transactions.web(back=lambda token, **_: f"/offer/{token}")
def decline(token: str) -> ResponseReturnValue:
    _checked(token)
    registration = waiting_lists.decline_offer(token)
    return render_template("offers/answered.html", registration=registration, accepted=False)


def _checked(token: str) -> None:
    if waiting_lists.offer_of(token) is None:
        abort(404)
    if not AnswerForm().validate_on_submit():
        abort(400)
