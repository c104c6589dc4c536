"""Flask extensions, created unbound and initialised in `create_app`."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.schema import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
# Only routes that ask for it are limited (the public verification page).
# Its counters live where RATELIMIT_STORAGE_URI says: in process memory by
# default, in Redis or Memcached when several app processes share the load.
limiter = Limiter(get_remote_address)
