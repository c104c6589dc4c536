"""What a calendar entry says about its session: what it is for, its topics,
what to prepare, where to join; and a curriculum's certificate rule in words.
The same text for every kind of export and page."""

from __future__ import annotations

from collections.abc import Sequence

from app.i18n import Translator
from curricula.model import Curriculum, Element, Mode


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


def certificate_rule(curriculum: Curriculum, tr: Translator) -> list[str]:
    """The certificate rule in words, naming elements by their titles."""

    def titles(keys: tuple[str, ...]) -> str:
        return ", ".join(curriculum.element(k).title.get(tr.language) for k in keys)

    rule = curriculum.certificate
    parts = [tr.gettext("required: %(keys)s", keys=titles(rule.required))] if rule.required else []
    parts += [
        tr.gettext("at least %(count)d of %(keys)s", count=group.count, keys=titles(group.of))
        for group in rule.at_least
    ]
    if rule.min_hours_share is not None:
        parts.append(
            tr.gettext(
                "at least %(percent)d %% of the teaching units",
                percent=round(rule.min_hours_share * 100),
            )
        )
    return parts


def shown_place(mode: str, venue: str | None, link: str | None) -> tuple[str | None, str | None]:
    """Where a session is, as every message and calendar says it: the venue
    for sessions in person, the link for online ones, both for either."""
    kind = Mode(mode)
    return (
        venue if kind in (Mode.IN_PERSON, Mode.EITHER) else None,
        link if kind in (Mode.ONLINE, Mode.EITHER) else None,
    )
