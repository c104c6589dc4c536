"""Every module that defines tasks for the queue, imported by create_app so
that the web processes (which enqueue) and the worker (which runs) know the
same tasks by the same names. Add a line for each new module."""

# One line per module, each added on its own, in no particular order.
# ruff: noqa: I001

import app.job_runner  # noqa: F401
from app import delivery  # noqa: F401
from app import periodic  # noqa: F401
from app import waiting_list_tasks  # noqa: F401
