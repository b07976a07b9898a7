"""E-mail over SMTP with the standard library: one connection per message.

A connection per message keeps the worker simple and each job independent (a dropped connection
fails one job, which is retried). Errors are reported by kind and SMTP code only: ``smtplib``'s
own messages can quote the recipient's address.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from adapters.notify.base import Message, NotificationError


@dataclass(frozen=True)
class SmtpNotifier:
    """Sends ``Message``s as plain-text e-mail from ``sender`` through ``host:port``."""

    host: str
    port: int = 25
    sender: str = "complaints@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email["X-Complaint-Reference"] = message.reference
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotificationError("the SMTP server refused the recipient") from exc
        except smtplib.SMTPResponseException as exc:
            raise NotificationError(
                f"the SMTP server refused the message ({exc.smtp_code})"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotificationError(f"SMTP failed: {type(exc).__name__}") from exc
