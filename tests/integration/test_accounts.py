from datetime import UTC, datetime, timedelta

import pytest

from app.models import Role
from app.services.accounts import (
    AccountError,
    LoginPolicy,
    create_user,
    end_all_sessions,
    log_in,
)
from tests.conftest import PASSWORD

POLICY = LoginPolicy(attempts=3, lock=timedelta(minutes=15))
NOW = datetime(2027, 1, 1, 9, tzinfo=UTC)


def test_passwords_are_stored_with_a_slow_kdf(db, make):
    user = make.user(Role.HR, email="hr@example.org")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert log_in(" HR@example.org ", PASSWORD, NOW, POLICY).user is user


def test_outside_the_tests_passwords_get_the_full_cost_of_scrypt():
    from app import create_app
    from app.models import User
    from config import Config

    settings = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}
    app = create_app(type("Production", (Config,), settings))
    with app.app_context():
        user = User()
        user.set_password(PASSWORD)
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", PASSWORD, "'not-an-address' is not an e-mail address"),
        ("a@example.org", "short", "the password needs at least 12 characters"),
    ],
)
def test_account_rules(db, email, password, message):
    with pytest.raises(AccountError, match=message):
        create_user(email, "A", Role.ADMIN, password, [])


def test_one_account_per_address(db, make):
    make.user(Role.HR, email="hr@example.org")
    with pytest.raises(AccountError, match="an account for hr@example.org exists already"):
        create_user("HR@example.org", "B", Role.HR, PASSWORD, [])


def test_repeated_failures_lock_the_account_for_a_while(db, make):
    user = make.user(Role.TRAINER, email="t@example.org")
    for _ in range(3):
        refused = log_in("t@example.org", "wrong password!", NOW, POLICY)
        assert refused.user is None
        assert str(refused.refusal) == "e-mail address or password is wrong"
    assert user.locked_until == NOW + timedelta(minutes=15)
    locked = log_in("t@example.org", PASSWORD, NOW, POLICY)
    assert locked.user is None
    assert str(locked.refusal) == "too many failed attempts; try again in 15 minutes"
    later = NOW + timedelta(minutes=16)
    assert log_in("t@example.org", PASSWORD, later, POLICY).user is user
    assert user.failed_logins == 0


def test_unknown_addresses_get_the_same_answer(db):
    refused = log_in("nobody@example.org", PASSWORD, NOW, POLICY)
    assert refused.user is None
    assert str(refused.refusal) == "e-mail address or password is wrong"


def test_ending_all_sessions_changes_the_login_id(db, make):
    user = make.user()
    before = user.get_id()
    end_all_sessions(user)
    assert user.get_id() != before
    assert user.get_id().startswith(f"{user.id}:")
