"""A user's API tokens: create one per integration, see them, revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from app import transactions
from app.i18n import translator
from app.services import api_tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/me/api-tokens")


@bp.get("")
def index() -> str:
    return _page(new_token=None)


@bp.post("")
@transactions.web
def create() -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("organisation", "")
    if not wanted.isdigit():
        abort(404)
    token = api_tokens.issue(current_user, int(wanted))
    return _page(new_token=token)


@bp.post("/<int:token_id>/revoke")
@transactions.web
def revoke(token_id: int) -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        abort(400)
    api_tokens.revoke(current_user, token_id)
    flash(translator().gettext("The token no longer works."), "success")
    return redirect(url_for("api_tokens.index"))


def _page(new_token: str | None) -> str:
    names = {o.id: o.name for o in current_user.organisations}
    return render_template(
        "api_tokens.html",
        tokens=api_tokens.of_user(current_user),
        names=names,
        new_token=new_token,
        form=FlaskForm(),
    )
