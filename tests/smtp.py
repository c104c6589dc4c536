"""A real SMTP server on this machine (aiosmtpd) for the tests that send
mail: it keeps what arrives, can refuse addresses or answer "try later",
and can be stopped and started again on the same port."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()  # addresses the server refuses mail for (550)
        self.busy_after: int | None = None  # answer 451 once this many have arrived
        # Shut the server down once this many have arrived: the next message
        # gets 421 (closing) and the server then stops, as a restarting one does.
        self.shut_down_after: int | None = None
        self.shut_down: Callable[[], None] | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's name
        if self.refused & set(envelope.rcpt_tos):
            return "550 mailbox unavailable"
        if self.busy_after is not None and len(self.messages) >= self.busy_after:
            return "451 try again later"
        if self.shut_down_after is not None and len(self.messages) >= self.shut_down_after:
            self.shut_down_after = None
            if self.shut_down is not None:
                threading.Thread(target=self.shut_down).start()
            return "421 shutting down, closing transmission channel"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.port = free_port()
        self.controller: Controller | None = None
        self.stopped = threading.Event()
        inbox.shut_down = self.stop

    def start(self) -> None:
        self.stopped.clear()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        controller, self.controller = self.controller, None
        if controller is not None:
            controller.stop()
        self.stopped.set()


@contextmanager
def mail_server(app) -> Iterator[MailServer]:
    """A running server the app sends to, stopped at the end."""
    server = MailServer(Inbox())
    server.start()
    keys = ("MAIL_SERVER", "MAIL_PORT", "MAIL_STARTTLS", "MAIL_USERNAME")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_STARTTLS=False, MAIL_USERNAME=""
    )
    try:
        yield server
    finally:
        server.stop()
        app.config.update(saved)
