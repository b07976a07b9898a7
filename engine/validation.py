"""Input checks at the engine's edge: one-line ``ValidationError``s that name the field.

Free text is kept as given (it is the resident's own account) but must be a string, within a
length limit, and free of NUL and other control characters that no letter contains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import ValidationError

# C0 and C1 control characters except tab, line feed and carriage return; and lone surrogates.
# One regular expression, not a loop over the characters: a 20,000-character account is checked
# in microseconds.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_TEXT = 20_000
# Bidirectional embedding, override and isolate controls reorder how the text around them is
# shown, so a name or a reference could display as another ("Trojan Source"). Refused in short
# fields (names, references, owners, contact details); kept in free text, where writing in a
# right-to-left language may use them.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
SHORT_TEXT = 254
"""Fields this long or shorter are identifiers and names, not accounts: no bidi controls."""
# Short fields stored in bounded columns: checked here so every database refuses them alike.
SHORT_FIELDS = {
    "owner": 100,
    "handler": 100,
    "exclusion": 64,
    "ombudsman_reference": 64,
    "clock": 32,
    "direction": 32,
    "channel": 32,
    "decision": 32,
}


def _check_chars(value: str, field: str) -> str:
    found = _FORBIDDEN.search(value)
    if found is None:
        return value
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        raise ValidationError(f"{field} contains an unpaired surrogate")
    raise ValidationError(f"{field} contains a control character (U+{code:04X})")


def _check_bidi(value: str, field: str) -> None:
    found = _BIDI.search(value)
    if found is not None:
        code = ord(found.group())
        raise ValidationError(f"{field} contains a bidirectional control character (U+{code:04X})")


def required_text(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} is required")
    return optional_text(value, field, max_length) or ""


def optional_text(value: Any, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text, got {type(value).__name__}")
    value = _check_chars(value.strip(), field)
    if max_length <= SHORT_TEXT:
        _check_bidi(value, field)
    if len(value) > max_length:
        raise ValidationError(
            f"{field} is too long ({len(value)} characters; at most {max_length})"
        )
    return value or None


def looks_like_reference(value: Any) -> bool:
    """A reference we could have issued: short, printable. Anything else is simply not found."""
    return isinstance(value, str) and 0 < len(value) <= 32 and all(32 < ord(c) < 127 for c in value)


def one_of(value: Any, field: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"unknown {field} {value!r}; expected one of: {', '.join(allowed)}")
    return value


def clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check every string in a command's input (recursively) and drop ``None`` values."""
    return {k: _clean(v, k) for k, v in payload.items() if v is not None}


def _clean(value: Any, field: str) -> Any:
    if isinstance(value, str):
        checked = _check_chars(value, field)
        limit = SHORT_FIELDS.get(field.rsplit(".", 1)[-1])
        if limit is not None:
            _check_bidi(checked, field)
        if limit is not None and len(checked.strip()) > limit:
            raise ValidationError(
                f"{field} is too long ({len(checked)} characters; at most {limit})"
            )
        if len(checked) > MAX_TEXT:
            raise ValidationError(
                f"{field} is too long ({len(checked)} characters; at most {MAX_TEXT})"
            )
        return checked
    if isinstance(value, Mapping):
        return {k: _clean(v, f"{field}.{k}") for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_clean(v, field) for v in value]
    return value
