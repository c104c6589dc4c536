"""Renderers: plain inputs in, a `Rendered` file out. They read, never write."""

from typing import NamedTuple


class Rendered(NamedTuple):
    filename: str
    mimetype: str
    content: bytes
