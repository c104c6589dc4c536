from datetime import UTC, datetime, timedelta

import pytest

from app.models import Role
from app.services.accounts import (
    AccountError,
    LoginPolicy,
    authenticate,
    create_user,
    end_all_sessions,
)
from tests.conftest import PASSWORD

POLICY = LoginPolicy(attempts=3, lock=timedelta(minutes=15))
NOW = datetime(2027, 1, 1, 9, tzinfo=UTC)


def test_passwords_are_stored_with_a_slow_kdf(db, make):
    user = make.user(Role.HR, email="hr@example.org")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert authenticate(" HR@example.org ", PASSWORD, NOW, POLICY) is user


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
        with pytest.raises(AccountError, match="e-mail address or password is wrong"):
            authenticate("t@example.org", "wrong password!", NOW, POLICY)
    assert user.locked_until == NOW + timedelta(minutes=15)
    with pytest.raises(AccountError, match="try again in 15 minutes"):
        authenticate("t@example.org", PASSWORD, NOW, POLICY)
    later = NOW + timedelta(minutes=16)
    assert authenticate("t@example.org", PASSWORD, later, POLICY) is user
    assert user.failed_logins == 0


def test_unknown_addresses_get_the_same_answer(db):
    with pytest.raises(AccountError, match="e-mail address or password is wrong"):
        authenticate("nobody@example.org", PASSWORD, NOW, POLICY)


def test_ending_all_sessions_changes_the_login_id(db, make):
    user = make.user()
    before = user.get_id()
    end_all_sessions(user)
    assert user.get_id() != before
    assert user.get_id().startswith(f"{user.id}:")
