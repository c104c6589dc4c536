"""Public addresses of the organisations that sign credentials: the issuer
profile, its public keys (a JWKS, and each key on its own, which a
credential's `kid` names) and its revocation status list.

Anyone may read them, without a login: verifying a credential must not
need us to know who asks. An organisation that has never signed anything
has none of these (404). Keys and profiles change rarely and are cached for
an hour; the status list for a minute (its `ttl` says the same), so a
revocation reaches a verifier within a minute at most.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, json, request

from app import credentials

bp = Blueprint("issuers", __name__, url_prefix="/issuers")

KEY_SECONDS = 3600
LIST_SECONDS = 60


@bp.get("/<int:organisation_id>")
def profile(organisation_id: int) -> Response:
    organisation = _issuer(organisation_id)
    return _json(credentials.issuer_profile(organisation), KEY_SECONDS)


@bp.get("/<int:organisation_id>/jwks.json")
def jwks(organisation_id: int) -> Response:
    _issuer(organisation_id)
    return _json(credentials.jwks(organisation_id), KEY_SECONDS, "application/jwk-set+json")


@bp.get("/<int:organisation_id>/keys/<kid>")
def key(organisation_id: int, kid: str) -> Response:
    found = credentials.public_jwk(organisation_id, kid)
    if found is None:
        abort(404)
    return _json(found, KEY_SECONDS, "application/jwk+json")


@bp.get("/<int:organisation_id>/status/revocation")
def status_list(organisation_id: int) -> Response:
    """The first list; an organisation with more than 131,072 credentials
    has more, as ?list=1, ?list=2 …"""
    organisation = _issuer(organisation_id)
    number = request.args.get("list", "0")
    if not number.isascii() or not number.isdigit() or len(number) > 6:
        abort(404)
    signed = credentials.status_list_credential(organisation, int(number), LIST_SECONDS)
    if signed is None:
        abort(404)
    response = Response(signed, mimetype="application/vc+jwt")
    response.headers["Cache-Control"] = f"public, max-age={LIST_SECONDS}"
    return _open(response)


def _issuer(organisation_id: int) -> Any:
    organisation = credentials.issuer_of(organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def _json(body: dict[str, Any], seconds: int, mimetype: str = "application/json") -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return _open(response)


def _open(response: Response) -> Response:
    # Wallets and verifiers fetch these from their own pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
