"""Free-text checks at the engine's edge: which characters are refused, and the one-line error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import ValidationError
from engine.validation import optional_text

ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def refused(char: str) -> bool:
    """The rule, one character at a time: C0/C1 controls but tab, LF, CR; lone surrogates."""
    code = ord(char)
    control = (code < 32 or 0x7F <= code < 0xA0) and char not in ALLOWED_CONTROLS
    return control or 0xD800 <= code <= 0xDFFF


@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=60))
def test_text_is_refused_exactly_when_it_holds_a_refused_character(text: str) -> None:
    stripped = text.strip()
    bad = [c for c in stripped if refused(c)]
    if not bad:
        assert optional_text(text, "summary", 1000) == (stripped or None)
        return
    with pytest.raises(ValidationError) as error:
        optional_text(text, "summary", 1000)
    first = ord(bad[0])
    if 0xD800 <= first <= 0xDFFF:
        assert str(error.value) == "summary contains an unpaired surrogate"
    else:
        assert str(error.value) == f"summary contains a control character (U+{first:04X})"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("leak\x00", "notes contains a control character (U+0000)"),
        ("bell \x07 here", "notes contains a control character (U+0007)"),
        ("c1 \x85 here", "notes contains a control character (U+0085)"),
        ("half \ud800 pair", "notes contains an unpaired surrogate"),
    ],
)
def test_each_kind_of_refused_character_is_named(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        optional_text(text, "notes", 100)


def test_line_breaks_tabs_and_any_language_are_kept() -> None:
    text = "Dŵr yn gollwng\r\n\tfrom the ceiling, 漏水 🙂"
    assert optional_text(text, "summary", 100) == text


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_bidi_controls_are_refused_in_names_and_kept_in_free_text(char: str) -> None:
    spoof = f"jo{char}nimda"  # shown right to left: "joadmin"
    with pytest.raises(
        ValidationError,
        match=f"owner contains a bidirectional control character \\(U\\+{ord(char):04X}\\)",
    ):
        optional_text(spoof, "owner", 100)
    account = f"The neighbour said {char}مرحبا\u202c and left"
    assert optional_text(account, "summary", 20_000) == account


def test_right_to_left_names_without_controls_are_kept() -> None:
    assert optional_text("نور الهدى", "owner", 100) == "نور الهدى"
