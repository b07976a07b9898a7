"""Text messages through an HTTP gateway: a JSON ``POST`` per message, with ``urllib``.

The body is ``{"to", "from", "body", "reference"}``; any 2xx answer means accepted. Most UK
gateways take this shape or one a small proxy can map to; a bearer token, if the gateway needs
one, comes from the environment (``COMPLAINTS_SMS_TOKEN``), never from a settings file.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from adapters.notify.base import Message, NotificationError


@dataclass(frozen=True)
class HttpSmsNotifier:
    """Posts each message to ``url``."""

    url: str
    sender: str = "Complaints"
    token: str | None = None
    timeout: float = 15.0

    def send(self, message: Message) -> None:
        data = json.dumps(
            {
                "to": message.to,
                "from": self.sender,
                "body": message.body,
                "reference": message.reference,
            }
        ).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            raise NotificationError(f"the SMS gateway answered HTTP {exc.code}") from exc
        except urllib.error.URLError as exc:
            reason = type(exc.reason).__name__ if isinstance(exc.reason, Exception) else "URLError"
            raise NotificationError(f"the SMS gateway is unreachable ({reason})") from exc
        except (TimeoutError, OSError) as exc:
            raise NotificationError(
                f"the SMS gateway is unreachable ({type(exc).__name__})"
            ) from exc
        if not 200 <= status < 300:
            raise NotificationError(f"the SMS gateway answered HTTP {status}")
