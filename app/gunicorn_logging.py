"""gunicorn's access log with secret links hidden, as in the app's own log
(used by `qualiplan serve`; give `--logger-class app.gunicorn_logging.HidingLogger`
when running gunicorn by hand)."""

from __future__ import annotations

from gunicorn import glogging

from app.logs import HideTokens


class HidingLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        self.access_log.addFilter(HideTokens())
