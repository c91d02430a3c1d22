"""report.html: self-contained, escaped, and rendered by headless Chromium without errors or fetches.

Chromium is driven from Python over the DevTools protocol on a pipe (tests/headless.py): no
port is opened and no browser-automation package is needed (playwright would bring its own
browser build; the test must run Debian's). Every request the page makes is recorded through
the Network domain, so a report that fetches anything fails.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from simulator.outputs.report import write_report
from tests import headless
from tests.test_land_release import run

WIDTH, HEIGHT = 1200, 900
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from simulator.outputs.writer import write_outputs

    folder = tmp_path_factory.mktemp("report")
    result = run(folder, f"description={HOSTILE}", "land_use.classes.forest.name=<b onmouseover=x>Forest</b>",
                 realizations=12)
    # the schema allows only [A-Za-z0-9_.-] in names; the report escapes them all the same
    scenario = result.setup.scenario.model_copy(update={"name": HOSTILE})
    result.setup = replace(result.setup, loaded=replace(result.setup.loaded, scenario=scenario))
    return write_outputs(result, folder / "out") / "report.html"


class Links(HTMLParser):
    """Every src/href/action/srcset attribute, every tag, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value is not None:
                self.urls.append(value)


def parsed(path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def test_report_links_only_to_data_uris(report):
    links = parsed(report)
    assert links.urls, "the report has inline images"
    assert all(url.startswith("data:image/png;base64,") for url in links.urls), links.urls
    assert "script" not in links.tags and "link" not in links.tags and "iframe" not in links.tags
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "url(" not in text


def test_hostile_names_are_escaped(report):
    text = report.read_text(encoding="utf-8")
    assert HOSTILE not in text and text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # title, h1, description
    assert "<b onmouseover" not in text and "&lt;b onmouseover=x&gt;Forest&lt;/b&gt;" in text


def test_report_holds_every_section(report):
    text = report.read_text(encoding="utf-8")
    for heading in ("Map", "Area by land-use class", "CHA polygons", "The plan", "Completion against the deadline",
                    "Monte Carlo errors", "Assumptions and their sources", "Provenance"):
        assert f"<h2>{heading}" in text
    assert "HRW" in text  # a catalog citation of the profiles the strikes use
    assert text.count("data:image/png;base64,") == 4


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_chromium_renders_the_report_without_errors_or_fetches(report):
    page = headless.load(report, WIDTH, HEIGHT)
    fetched = [url for url in page.requests if not url.startswith("data:")]  # inline images are no fetch
    assert fetched == [report.resolve().as_uri()]
    assert len(page.requests) - len(fetched) == 4  # the four figures decoded from the page itself
    assert [m for m in page.console if m[0] in ("error", "warning", "assert")] == []
    assert page.exceptions == []
    assert png_size(page.screenshot) == (WIDTH, HEIGHT)
    assert page.layout_width <= WIDTH  # nothing wider than the page: no horizontal scrolling


def test_the_browser_check_sees_a_fetch_and_a_console_error(tmp_path):
    """The check above can fail: a page that loads an image from loopback and logs an error is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>')
    loaded = headless.load(page, WIDTH, HEIGHT)
    assert "http://127.0.0.1:9/x.png" in loaded.requests
    assert ("error", "boom") in loaded.console


def test_report_without_land_release(tmp_path):
    from simulator.config.variants import load_scenario
    from simulator.pipeline import simulate
    from tests.conftest import write_tiny

    result = simulate(load_scenario(write_tiny(tmp_path), ["simulation.realizations=8"]), threads=1)
    folder = tmp_path / "o"
    folder.mkdir()
    text = write_report(result, folder, "0" * 64).read_text(encoding="utf-8")
    assert "no plan" in text and "<h2>Provenance" in text
