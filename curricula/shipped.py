"""The standard curricula shipped with Qualiplan (`definitions/*.toml`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from curricula.loader import load_text
from curricula.model import Curriculum


def definition_files() -> dict[str, Path]:
    folder = resources.files("curricula") / "definitions"
    return {
        entry.name.removesuffix(".toml"): Path(str(entry))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


@cache
def _loaded() -> tuple[tuple[Curriculum, str], ...]:
    """Each shipped curriculum with its TOML text, read once per process."""
    loaded = []
    for path in definition_files().values():
        text = path.read_text(encoding="utf-8")
        loaded.append((load_text(text, source=path.name), text))
    return tuple(loaded)


def shipped() -> Mapping[str, Curriculum]:
    """Every shipped curriculum by key."""
    return MappingProxyType({curriculum.key: curriculum for curriculum, _ in _loaded()})


def shipped_sources() -> Mapping[str, str]:
    """The TOML text of every shipped curriculum by key."""
    return MappingProxyType({curriculum.key: text for curriculum, text in _loaded()})
