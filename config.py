"""Settings from environment variables; tests pass their own class."""

from __future__ import annotations

import os


def database_url(url: str | None) -> str | None:
    """SQLAlchemy's URL for `url`, with PostgreSQL through psycopg 3."""
    if url is None:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Config:
    TESTING = False
    # Without DATABASE_URL: an SQLite file in the instance folder (set in create_app).
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # The UI speaks German first; English is the second language.
    DEFAULT_LANGUAGE = os.environ.get("QUALIPLAN_LANGUAGE", "de")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Plain http only on this machine (make run); everywhere else cookies need https.
    SESSION_COOKIE_SECURE = os.environ.get("QUALIPLAN_INSECURE_COOKIES") != "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # Uploads (participant files) up to 5 MB.
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # Cancelled sessions stay in calendar feeds (shown cancelled) this many days.
    FEED_KEEP_CANCELLED_DAYS = int(os.environ.get("QUALIPLAN_FEED_KEEP_CANCELLED_DAYS", "60"))
    # The public certificate check answers this many look-ups per address.
    VERIFY_RATE_LIMIT = os.environ.get("QUALIPLAN_VERIFY_RATE_LIMIT", "20 per minute")
    # Registering for a cohort, per address: enough for a department at one
    # computer, too few to fill a cohort's list with invented people.
    REGISTER_RATE_LIMIT = os.environ.get("QUALIPLAN_REGISTER_RATE_LIMIT", "20 per 10 minutes")
    # Where the counters live (a `limits` storage URI): memory://, redis://…
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # The address every link that leaves the site is built on (e-mails,
    # calendar addresses, certificates and their QR codes), e.g.
    # "https://qualiplan.example.org"; without it, the address of the request,
    # whose Host header the client chooses.
    PUBLIC_URL = os.environ.get("QUALIPLAN_PUBLIC_URL", "").rstrip("/")
    # Reverse proxies in front of the app (nginx, a load balancer): how many
    # to trust for the client's address, scheme and host (X-Forwarded-*).
    TRUSTED_PROXIES = int(os.environ.get("QUALIPLAN_TRUSTED_PROXIES", "0"))
    # Strict-Transport-Security on answers over HTTPS: browsers then use https
    # only, for this long (seconds; a year). Subdomains are left to themselves.
    HSTS_MAX_AGE = int(os.environ.get("QUALIPLAN_HSTS_MAX_AGE", str(365 * 24 * 3600)))
    # Logging in (app.services.accounts.log_in has the reasons):
    # failed logins in a row before an account pauses for browsers it does not
    # know, the first pause (seconds), doubled with each further failure up to
    # the longest (minutes);
    LOGIN_ATTEMPTS = int(os.environ.get("QUALIPLAN_LOGIN_ATTEMPTS", "5"))
    LOGIN_FIRST_LOCK_SECONDS = int(os.environ.get("QUALIPLAN_LOGIN_FIRST_LOCK_SECONDS", "60"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("QUALIPLAN_LOGIN_LOCK_MINUTES", "15"))
    # failed logins one client address may make (any accounts), then 429;
    LOGIN_RATE_LIMIT = os.environ.get("QUALIPLAN_LOGIN_RATE_LIMIT", "20 per 10 minutes")
    # failed logins a browser the account logged in with before may make
    # before it counts as unknown, and how long it is remembered (days).
    LOGIN_DEVICE_LIMIT = os.environ.get("QUALIPLAN_LOGIN_DEVICE_LIMIT", "5 per 15 minutes")
    LOGIN_DEVICE_DAYS = int(os.environ.get("QUALIPLAN_LOGIN_DEVICE_DAYS", "180"))
    # A password reset link an admin sends works once, for this many hours.
    PASSWORD_RESET_HOURS = int(os.environ.get("QUALIPLAN_PASSWORD_RESET_HOURS", "24"))
    # Where queued work waits for the worker (app.queue): empty for a SQLite
    # file in the instance folder, or the PostgreSQL database when that is the
    # database; redis://… or postgresql://… to name one.
    QUEUE_URL = os.environ.get("QUALIPLAN_QUEUE_URL", "")
    # Signed credentials (app/credentials): the secret that encrypts each
    # organisation's signing key in the database (any long random text, e.g.
    # the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).
    # Without it a key file in the instance folder is used (`make run`);
    # production refuses to issue credentials without it.
    CREDENTIAL_KEY = os.environ.get("QUALIPLAN_CREDENTIAL_KEY", "")

    # E-mail (the participants' personal links); without MAIL_SERVER nothing is sent.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_STARTTLS = os.environ.get("MAIL_STARTTLS", "1" if MAIL_USERNAME else "0") == "1"
    MAIL_FROM = os.environ.get("MAIL_FROM", "Qualiplan <qualiplan@localhost>")


class ProductionConfig(Config):
    """What `qualiplan serve` and app.wsgi run: no secret made up on the spot
    (every process and machine must share one), cookies only over https."""

    PRODUCTION = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    TESTING = True
    # Still scrypt, at a cost that makes an account in a millisecond: the
    # suite creates hundreds. Production keeps werkzeug's default cost.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 -- a cost, no password
    SECRET_KEY = "test-only-secret-key"  # noqa: S105 -- tests only
    # Every test logs in from 127.0.0.1; the throttle's own tests set a limit.
    LOGIN_RATE_LIMIT = "100000 per hour"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL")) or "sqlite://"
    # Queued work stays in the test's process; a test runs it with app.queue.run_pending.
    QUEUE_URL = "memory://"
    CREDENTIAL_KEY = "test-only-credential-key-0123456789abcdef"  # noqa: S105 -- tests only
