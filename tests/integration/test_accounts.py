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

POLICY = LoginPolicy(
    attempts=3, first_lock=timedelta(minutes=1), longest_lock=timedelta(minutes=15)
)
REFUSED = (
    "e-mail address or password is wrong, or logging in is paused for a few minutes "
    "after several failed attempts"
)
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


def test_repeated_failures_pause_the_account_briefly_then_longer(db, make):
    user = make.user(Role.TRAINER, email="t@example.org")
    for _ in range(3):
        refused = log_in("t@example.org", "wrong password!", NOW, POLICY)
        assert refused.user is None
        assert str(refused.refusal) == REFUSED
    assert user.locked_until == NOW + timedelta(minutes=1)
    # During the pause even the right password is refused, and not counted.
    assert log_in("t@example.org", PASSWORD, NOW, POLICY).user is None
    assert log_in("t@example.org", "wrong password!", NOW, POLICY).user is None
    assert user.failed_logins == 3
    # Each failure after a pause pauses again, twice as long, at most 15 minutes.
    moment, pauses = NOW, []
    for _ in range(6):
        moment = user.locked_until + timedelta(seconds=1)
        log_in("t@example.org", "wrong password!", moment, POLICY)
        pauses.append((user.locked_until - moment).total_seconds() / 60)
    assert pauses == [2, 4, 8, 15, 15, 15]
    # A pause ends by itself: the right password then lets in and forgets the failures.
    after = user.locked_until + timedelta(seconds=1)
    assert log_in("t@example.org", PASSWORD, after, POLICY).user is user
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_the_owners_browser_gets_in_during_a_pause_and_leaves_it_standing(db, make):
    user = make.user(Role.TRAINER, email="t@example.org")
    for _ in range(3):
        log_in("t@example.org", "guess", NOW, POLICY)
    paused_until = user.locked_until
    assert log_in("t@example.org", PASSWORD, NOW, POLICY).user is None
    assert log_in("t@example.org", PASSWORD, NOW, POLICY, known_browser_of=user.id).user is user
    # The guesser gains no fresh attempts from the owner's login.
    assert (user.failed_logins, user.locked_until) == (3, paused_until)
    # The owner's own mistakes are the door's to count, not the account's.
    mistake = log_in("t@example.org", "typo", NOW, POLICY, known_browser_of=user.id)
    assert mistake.user is None
    assert mistake.from_known_browser
    assert str(mistake.refusal) == REFUSED
    assert user.failed_logins == 3
    # A browser known for another account is an unknown one here.
    other = log_in("t@example.org", PASSWORD, NOW, POLICY, known_browser_of=user.id + 1)
    assert other.user is None


def test_unknown_addresses_and_deactivated_accounts_get_the_same_answer(db, make):
    refused = log_in("nobody@example.org", PASSWORD, NOW, POLICY)
    assert refused.user is None
    assert str(refused.refusal) == REFUSED
    user = make.user(Role.TRAINER, email="gone@example.org")
    user.active = False
    refused = log_in("gone@example.org", PASSWORD, NOW, POLICY, known_browser_of=user.id)
    assert refused.user is None
    assert str(refused.refusal) == REFUSED


def test_ending_all_sessions_changes_the_login_id(db, make):
    user = make.user()
    before = user.get_id()
    end_all_sessions(user)
    assert user.get_id() != before
    assert user.get_id().startswith(f"{user.id}:")
