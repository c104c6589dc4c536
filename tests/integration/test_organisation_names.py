"""An organisation's name is the sender's name on its e-mails: one line,
never empty, whoever creates it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Organisation
from app.services.errors import InvalidInput
from app.services.organisations import create_organisation
from app.services.policy import Actor
from app.services.text import NotOneLine


@pytest.mark.parametrize("name", ["Muster AG\r\nBcc: alle@example.org", "Muster\x1bAG"])
def test_a_name_with_a_control_character_is_refused(db, name):
    with pytest.raises(NotOneLine) as refused:
        create_organisation(Actor.system(), name, "DE-BY")
    assert refused.value.field == "name"
    assert db.session.scalar(select(func.count(Organisation.id))) == 0


def test_an_empty_name_is_refused(db):
    with pytest.raises(InvalidInput) as refused:
        create_organisation(Actor.system(), "  \n", "DE-BY")
    assert refused.value.code == "empty_name"


def test_a_name_is_trimmed_and_composed(db):
    created = create_organisation(Actor.system(), " Nguye\u0302\u0303n GmbH\n", "de-by")
    assert created.name == "Nguyễn GmbH"
    assert created.default_region == "DE-BY"
