"""Command groups of the `qualiplan` command."""

from __future__ import annotations

from curricula.messages import Message


class CommandFailed(Exception):
    """Bad input or a refused action on the command line; `qualiplan` prints
    each message as one line in the user's language and exits with 2."""

    def __init__(self, *messages: Message) -> None:
        self.messages = messages
        super().__init__("; ".join(str(m) for m in messages))
