"""The production WSGI application, for gunicorn or any other WSGI server:
`gunicorn --workers 4 --bind 127.0.0.1:8000 app.wsgi:app` (add
`--logger-class app.gunicorn_logging.HidingLogger` to keep secret links out of
the access log)."""

from app import create_app
from config import ProductionConfig

app = create_app(ProductionConfig)
