"""The default sink: messages appended to a file, or printed on standard output.

Letters always come here (to print and post); e-mail and texts do too until a server or gateway
is configured, so a new installation can see exactly what residents would receive.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from adapters.notify.base import Message, NotificationError


@dataclass
class FileNotifier:
    """Appends each message as a block to ``path`` (``None``: standard output)."""

    path: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def send(self, message: Message) -> None:
        block = render_block(message)
        with self._lock:
            if self.path is None:
                sys.stdout.write(block)
                sys.stdout.flush()
                return
            try:
                with self.path.open("a", encoding="utf-8") as outbox:
                    outbox.write(block)
            except OSError as exc:
                raise NotificationError(f"cannot write the outbox file ({exc.strerror})") from exc


def render_block(message: Message) -> str:
    """One message as the outbox shows it: a header line, the addressee, subject and body."""
    lines = [f"===== {message.channel} {message.kind} {message.reference}", f"To: {message.to}"]
    if message.subject:
        lines.append(f"Subject: {message.subject}")
    return "\n".join([*lines, "", message.body.rstrip(), "", ""])
