"""The HTML report in a real browser: Debian's headless Chromium renders the page, the rendered
DOM must hold every chart with its marks, and a screenshot is kept in ``test-artefacts/``.

Chromium is a system package (``apt-get install -y chromium``). Without it this test is skipped
with the reason, unless ``COMPLAINTS_REQUIRE_BROWSER=1`` (CI), when it fails.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from cli_support import REPO, Cli
from support import FakeClock, london

from adapters.bootstrap import build_service
from adapters.settings import load_settings
from engine.service import ComplaintsService

ARTEFACTS = REPO / "test-artefacts"
CHARTS = ("monthly_volumes", "timeliness", "outcomes_by_category", "countdown")
TRUTHY = {"1", "true", "yes", "on"}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("COMPLAINTS_REQUIRE_BROWSER", "").strip().lower() in TRUTHY:
        pytest.fail(f"{reason}; COMPLAINTS_REQUIRE_BROWSER is set", pytrace=False)
    pytest.skip(reason)


def browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with everything that could reach the network switched off."""
    argv = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


# -- a little data -------------------------------------------------------------------------------


def build(service: ComplaintsService) -> None:
    """Complaints in June and July 2025 with both stages, decisions and an open case."""
    categories = ("repairs", "damp-and-mould", "asb")
    for i, category in enumerate(categories * 2):
        month, day = (6, 2 + i) if i < 3 else (7, 1 + i)
        ref = service.open(
            actor="s1",
            category=category,
            channel="phone",
            area="north" if i % 2 else "south",
            received_at=london(2025, month, day, 10),
            understanding="Repair outstanding",
            desired_outcome="Fix it",
        ).reference
        service.acknowledge(ref, actor="s1", at=london(2025, month, day + 1, 10))
        if i == 5:
            continue  # left open, awaiting its response
        decision = ("upheld", "partially-upheld", "not-upheld")[i % 3]
        service.respond(
            ref,
            actor="s1",
            decision=decision,
            reasons="Looked into it",
            avoidable=None if decision == "not-upheld" else True,
            at=london(2025, month, day + 8 + i, 12),
        )
        if i == 1:
            service.escalate(ref, actor="s1", at=london(2025, 6, 20, 10))
            service.acknowledge(
                ref,
                actor="s2",
                handler="s2",
                understanding="Still damp",
                desired_outcome="Fix it",
                at=london(2025, 6, 23, 10),
            )
            service.respond(
                ref,
                actor="s2",
                decision="upheld",
                reasons="Agreed",
                avoidable=True,
                at=london(2025, 7, 10, 10),
            )


class ChartMarks(HTMLParser):
    """Counts the bars (``rect.mark``) inside each ``svg.chart`` of a rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, int] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "svg" and "chart" in (values.get("class") or "").split():
            self._current = (values.get("id") or "").removeprefix("chart-")
            self.marks[self._current] = 0
        elif tag == "rect" and self._current and "mark" in (values.get("class") or "").split():
            self.marks[self._current] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._current = None


# -- a tiny PNG reader (zlib only) ---------------------------------------------------------------


def png_pixels(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG into a (height, width, channels) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks = 8, []
    width = height = depth = colour = interlace = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8)
    raw = raw.reshape(height, stride + 1)
    image = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if kind == 1:  # Sub: a running sum per channel
            line = np.cumsum(line.reshape(width, bpp), axis=0).reshape(stride) & 255
        elif kind == 2:  # Up
            line = (line + previous) & 255
        elif kind in (3, 4):  # Average, Paeth: byte by byte
            line = _unfilter_slow(int(kind), line.tolist(), previous.tolist(), bpp)
        image[y] = line
        previous = line.astype(np.int64)
    return image.reshape(height, width, bpp)


def _unfilter_slow(kind: int, line: list[int], prev: list[int], bpp: int) -> np.ndarray:
    out = [0] * len(line)
    for i, value in enumerate(line):
        left = out[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 3:
            out[i] = (value + (left + up) // 2) & 255
            continue
        up_left = prev[i - bpp] if i >= bpp else 0
        p = left + up - up_left
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
        predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
        out[i] = (value + predictor) & 255
    return np.asarray(out, dtype=np.int64)


# -- the test ------------------------------------------------------------------------------------


@pytest.fixture
def report_data(db_url: str) -> None:
    clock = FakeClock(datetime(2025, 9, 1, 9, 0, tzinfo=UTC))
    service = build_service(load_settings(str(REPO / "config")), database_url=db_url, clock=clock)
    build(service)


def test_the_html_report_renders_its_charts_in_a_real_browser(
    report_data: None, cli: Cli, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    binary = chromium()
    page = tmp_path / "performance.html"
    out = cli(
        "report",
        "performance",
        "--from",
        "2025-06-01",
        "--to",
        "2025-07-31",
        "--as-of",
        "2025-09-01",
        "--format",
        "html",
        "--out",
        str(page),
    )
    assert out.strip() == f"performance report written to {page}"
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "https://" not in html

    dom = browser(binary, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = ChartMarks()
    parser.feed(dom.stdout)
    assert set(CHARTS) <= set(parser.marks), parser.marks
    for name in CHARTS:
        assert parser.marks[name] > 0, f"chart {name} has no marks in the rendered DOM"

    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report-performance.png"
    shot.unlink(missing_ok=True)
    done = browser(
        binary,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 20_000
    pixels = png_pixels(shot.read_bytes())
    assert pixels.shape[:2] == (2000, 1280)
    colours = np.unique(pixels[..., :3].reshape(-1, 3), axis=0)
    assert len(colours) > 16, "the screenshot is blank or nearly so"
    # The chart palette's blue is on the page (bars drawn, not just text).
    blue = np.all(pixels[..., :3] == (0x00, 0x72, 0xB2), axis=-1)
    assert blue.sum() > 500


def test_the_report_command_refuses_an_unknown_table_in_one_line(
    cli: Cli, report_data: None
) -> None:
    message = cli.fails("report", "tsm", "--year", "2025", "--table", "nope")
    assert "no table 'nope' in the tsm report" in message


def test_hotspots_and_tsm_print_tables_and_csv(cli: Cli, report_data: None) -> None:
    text = cli("report", "hotspots", "--from", "2025-06-01", "--to", "2025-06-30")
    assert "Category x area combinations flagged" in text
    csv_text = cli("report", "tsm", "--year", "2025", "--homes", "100", "--format", "csv")
    # 3 Stage 1 complaints received in June, 3 in July; 6 per 100 homes = 60.00 per 1,000.
    assert "tsm,ch01,5,received,6\n" in csv_text
    assert "tsm,ch01,5,per_1000,60.00\n" in csv_text
