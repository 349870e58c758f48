from __future__ import annotations

from datetime import timedelta

import pytest

from graph.mail import (
    LogTransport,
    RetryPolicy,
    SmtpTarget,
    SmtpTransport,
    transport_for,
)


def test_parses_an_smtp_url_with_credentials() -> None:
    target = SmtpTarget.parse("smtp://mailer:p%40ss@mail.example.com:2525")

    assert target == SmtpTarget("mail.example.com", 2525, "none", "mailer", "p@ss")


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://h", "none", 25),
        ("smtp+starttls://h", "starttls", 587),
        ("smtps://h", "tls", 465),
    ],
)
def test_the_scheme_chooses_security_and_default_port(
    url: str, security: str, port: int
) -> None:
    target = SmtpTarget.parse(url)

    assert (target.security, target.port) == (security, port)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail:25"])
def test_rejects_what_is_not_an_smtp_url(url: str) -> None:
    with pytest.raises(ValueError, match=r"scheme|host"):
        SmtpTarget.parse(url)


def test_without_an_smtp_url_mail_goes_to_the_log() -> None:
    assert isinstance(transport_for(None), LogTransport)
    assert isinstance(transport_for("smtp://localhost"), SmtpTransport)


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    policy = RetryPolicy()

    delays = [policy.delay(attempt) for attempt in range(1, 10)]

    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays[-1] == timedelta(hours=1)
    assert policy.lease > timedelta(seconds=30)
