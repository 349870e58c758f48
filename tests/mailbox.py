"""A real SMTP server on a free loopback port (aiosmtpd), whose mail tests read."""

from __future__ import annotations

import asyncio
import email
import socket
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Mailbox:
    """Collects what the server receives. The server is not listening until
    `start()`, so a test can play a mail server that is down."""

    def __init__(self) -> None:
        self.port = free_port()
        self._loop = asyncio.get_running_loop()
        self._received: asyncio.Queue[EmailMessage] = asyncio.Queue()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, login: tuple[str, str] | None = None) -> None:
        """Listen; with `login`, only a client that authenticates so may send."""
        options: dict[str, Any] = {}
        if login is not None:
            expected = LoginPassword(login[0].encode(), login[1].encode())
            options = {
                "auth_required": True,
                "auth_require_tls": False,  # loopback only
                # handled=False: let aiosmtpd answer 535 to a refused login.
                "authenticator": lambda *args: AuthResult(
                    success=args[4] == expected, handled=False
                ),
            }
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Runs on the server's own thread and loop; hand over to the test's loop.
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self._loop.call_soon_threadsafe(self._received.put_nowait, message)
        return "250 OK"

    async def next(self) -> EmailMessage:
        return await asyncio.wait_for(self._received.get(), TIMEOUT_SECONDS)

    def pending(self) -> int:
        return self._received.qsize()
