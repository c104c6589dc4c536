"""What a calendar entry says about its session: what it is for, its topics,
what to prepare, where to join. The same text for every kind of export."""

from __future__ import annotations

from collections.abc import Sequence

from app.i18n import Translator
from curricula.model import Element


def session_description(
    element: Element, tr: Translator, *, link: str | None, extra: Sequence[str] = ()
) -> str:
    lang = tr.language
    parts: list[str] = []
    if element.description:
        parts.append(element.description.get(lang))
    if element.topics:
        topics = "\n".join(f"- {t.get(lang)}" for t in element.topics)
        parts.append(tr.gettext("Topics:") + "\n" + topics)
    if element.preparation:
        parts.append(tr.gettext("Preparation: %(text)s", text=element.preparation.get(lang)))
    if link:
        parts.append(tr.gettext("Online meeting: %(link)s", link=link))
    parts.extend(extra)
    return "\n\n".join(parts)
