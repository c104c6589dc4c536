"""Signed credentials at the doors: downloads for staff (from the
certificate's page) and for the person (from their personal page, whose
secret link is the key), and /verify taking a pasted or uploaded
credential.

The check is public and throttled with the code check's budget; its form
carries a CSRF token like every form. Whatever comes in (a text, a .json or
.jwt file, a baked .png) is read within fixed limits and answered with a
verdict in words, never with an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from app import credentials, throttle, transactions
from app.certificate_files import printed
from app.credential_files import (
    FORMATS,
    TEXT_LIMIT,
    UPLOAD_LIMIT,
    Unreadable,
    credential_download,
    credential_text,
    stated,
)
from app.extensions import csrf
from app.forms.certificates import VerifyForm
from app.i18n import translator
from app.services import certificates as service
from app.views.access import actor
from app.views.personal import opened_link

Download = Callable[..., Response]

bp = Blueprint("credentials", __name__)
# The check has its own blueprint, so that its error answers (a body past
# the limit, a NUL character) are the verify page with the reason.
checking = Blueprint("verification", __name__)

# What each verdict answers with: a credential that cannot be confirmed is
# input we could not process as asked (422), a revoked one is gone (410),
# as on the code check.
STATUS = {
    "valid": 200,
    "superseded": 200,
    "revoked": 410,
    "tampered": 422,
    "unknown_issuer": 422,
    "not_a_credential": 422,
}
# The form's own limit on top of the file size: the pasted text.
_FORM_OVERHEAD = 64 * 1024


def staff_download(certificate_id: int, fmt: str) -> Response:
    """The credential of one of the organisation's certificates (others: 404)."""
    return credential_download(service.certificate_of(actor(), certificate_id), fmt)


def personal_download(token: str, certificate_id: int, fmt: str) -> Response:
    """The person's own credential; anyone else's is not found."""
    participant = opened_link(token).participant
    own = {c.id: c for c in service.all_of_participant(participant.id)}
    if certificate_id not in own:
        abort(404)
    return credential_download(own[certificate_id], fmt)


def _register(rule: str, name: str, view: Download) -> None:
    """One address and endpoint per file type: `credentials.<name>_png` for
    `<rule>.png`, and so on."""
    for fmt in FORMATS:
        one = update_wrapper(partial(view, fmt=fmt), view)
        one.__name__ = f"{name}_{fmt}"  # type: ignore[attr-defined]
        bp.add_url_rule(f"{rule}.{fmt}", endpoint=one.__name__, view_func=one)


_register("/certificates/<int:certificate_id>/credential", "staff", staff_download)
_register("/p/<token>/certificates/<int:certificate_id>/credential", "personal", personal_download)


@checking.post("/verify")
@csrf.exempt  # checked below, so that a refusal is said on the page itself
@transactions.web
def check() -> ResponseReturnValue:
    """Changes nothing; a commit point like every form post all the same."""
    throttle.check("verify", current_app.config["VERIFY_RATE_LIMIT"])
    if (request.content_length or 0) > UPLOAD_LIMIT + _FORM_OVERHEAD:
        return _page(problem="too_large", status=413)
    pasted = request.form.get("credential", "")
    upload = request.files.get("file")
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return _page(problem="expired", status=400)
    try:
        if upload is not None and upload.filename:
            data = upload.stream.read(UPLOAD_LIMIT + 1)
        else:
            if len(pasted) > TEXT_LIMIT:
                raise Unreadable("too_large")
            data = pasted.encode("utf-8", "surrogatepass")
        text = credential_text(data)
    except Unreadable as unreadable:
        status = 413 if unreadable.reason == "too_large" else 400
        return _page(problem=unreadable.reason, status=status, pasted=pasted)
    verdict = credentials.verify_credential(text)
    certificate = verdict.certificate
    tr = translator()
    return _page(
        verdict=verdict,
        verdict_text=tr.localize(verdict.message),
        printed=printed(certificate, tr) if certificate is not None else None,
        claims=None if certificate is not None else stated(text),
        status=STATUS.get(verdict.state, 422),
    )


@checking.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body past the app's own limit, refused before the view runs."""
    return _page(problem="too_large", status=413)


@checking.errorhandler(400)
def _bad_request(error: Exception) -> ResponseReturnValue:
    """A NUL character (refused for every form before the view runs)."""
    return _page(problem="not_text", status=400)


def _problem_text(problem: str) -> str:
    tr = translator()
    limit = UPLOAD_LIMIT // (1024 * 1024)
    texts = {
        "too_large": tr.gettext(
            "The file is too large: a credential or badge has at most %(size)d MB.", size=limit
        ),
        "empty": tr.gettext("Paste a credential or choose a file, then check."),
        "no_badge": tr.gettext(
            "This picture carries no credential: no Open Badges data is baked into it."
        ),
        "broken_image": tr.gettext("This PNG file is damaged and cannot be read."),
        "not_text": tr.gettext(
            "This file is neither a credential (.jwt, .json) nor a badge picture (.png)."
        ),
        "expired": tr.gettext(
            "The form had expired. Please choose the file or paste the text again."
        ),
    }
    return texts[problem]


def _page(
    *, status: int, problem: str | None = None, pasted: str = "", **values: object
) -> ResponseReturnValue:
    page = render_template(
        "certificates/verify.html",
        form=VerifyForm(formdata=None),
        certificate=None,
        problem=problem,
        problem_text=_problem_text(problem) if problem else "",
        upload_limit=UPLOAD_LIMIT // (1024 * 1024),
        pasted=pasted if len(pasted) <= TEXT_LIMIT else "",
        checked=True,
        **values,
    )
    return page, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
