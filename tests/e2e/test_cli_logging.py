"""The long-running commands (``worker``, ``serve``, ``scheduler``) log at ``info`` unless the
command line asked for a level, and in the format it asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from adapters.cli.context import AppContext


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def said(capsys: pytest.CaptureFixture[str]) -> list[str]:
    log = structlog.get_logger("test")
    log.info("an_info_line")
    log.warning("a_warning_line")
    return capsys.readouterr().err.splitlines()


def test_a_service_logs_info_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    AppContext(log_json=True).log_as_a_service()
    events = [json.loads(line)["event"] for line in said(capsys)]
    assert events == ["an_info_line", "a_warning_line"]


def test_a_level_and_a_format_asked_for_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    AppContext(log_json=False, log_level="warning").log_as_a_service()
    lines = said(capsys)
    assert len(lines) == 1
    assert "a_warning_line" in lines[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])  # the console format, as asked
