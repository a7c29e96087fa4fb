"""The HTML report in a real browser: highlights sit exactly over their offsets, focus shows the tooltip,
the console stays clean and nothing is fetched.

Needs Debian's chromium and chromium-driver; skipped when they are not installed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from quotes.api import extract
from quotes.render import to_html
from quotes.schema import (
    Article,
    ChunkError,
    Claim,
    DiffOp,
    Entity,
    Evidence,
    Extraction,
    Quote,
    Speaker,
    Verdict,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SEED = Path(__file__).resolve().parent.parent / "seeds" / "kadhimi-in-iran.txt"

ROUHANI = Speaker(name="Hassan Rouhani", mention="who", type="person", role="Iranian President")
KADHIMI = Speaker(name="Mustafa al-Kadhimi", mention="the Iraqi prime minister", type="person")
KADHIMI_BY_NAME = Speaker(name="Mustafa al-Kadhimi", mention="Kadhimi", type="person")
MOEZZI = Speaker(name="Alireza Moezzi", mention="Alireza Moezzi", type="person")
IRANIANS = Speaker(name="Iranians", mention="Iranians", type="group")

# (quote text as it appears in the seed, kind, speaker, cue, about)
SEED_QUOTES: list[tuple[str, str, Speaker, str, list[str]]] = [
    ("changes in Kadhimi’s reception ceremony", "indirect", MOEZZI, "revealed", ["Mustafa al-Kadhimi"]),
    (
        "they discussed “expanding trade relations,\ncombating the corona virus, and efforts to maintain "
        "regional stability,”",
        "mixed",
        ROUHANI,
        "said",
        [],
    ),
    (
        "expanding trade relations,\ncombating the corona virus, and efforts to maintain regional stability,",
        "direct",
        ROUHANI,
        "said",
        [],
    ),
    (
        "his country's desire to raise the level of bilateral trade relations\nto about $20 billion",
        "indirect",
        ROUHANI,
        "expressing",
        [],
    ),
    (
        "honoring Qassem\nSoleimani and Abu Mahdi al-Muhandis,",
        "direct",
        ROUHANI,
        "called for",
        ["Qassem Soleimani", "Abu Mahdi al-Muhandis"],
    ),
    ("Iraq stands with Iran in its\neconomic crisis", "direct", KADHIMI, "saying", ["Iran"]),
    ("politics in Iraq is based on goodwill.", "direct", KADHIMI, "adding", []),
    (
        "Iraq’s foreign relations depend on\nthe principle of balance and staying away from any axis,",
        "direct",
        KADHIMI_BY_NAME,
        "pointed out",
        [],
    ),
    (
        "not to allow\nany threat to Iran from Iraqi territory",
        "indirect",
        KADHIMI_BY_NAME,
        "pledging",
        ["Iran"],
    ),
    ("it showed the “greatness of Khamenei,”", "mixed", IRANIANS, "said", ["Ali Khamenei"]),
    ("greatness of Khamenei,", "direct", IRANIANS, "said", ["Ali Khamenei"]),
]

# Written for this test: crossing spans, a quote at offset 0 and one ending the text, CRLF, markup and
# an emoji (one code point, two UTF-16 units) before a quote.
TRICKY = (
    "“Cheap tricks & <script>alert('boom')</script> won’t work,” said Ana Ruiz.\r\n"
    "She added 🎉 that the plan “is dead” and later told reporters it was “finished for good”"
)


def _quote(
    text: str, qid: str, snippet: str, kind: str, speaker: Speaker, cue: str, about: list[str]
) -> Quote:
    start = text.find(snippet)
    assert start >= 0, f"{snippet!r} is not in the article"
    return Quote.model_validate(
        {
            "id": qid,
            "text": snippet,
            "start": start,
            "end": start + len(snippet),
            "kind": kind,
            "speaker": speaker,
            "cue": cue,
            "about": [Entity(name=name) for name in about],
        }
    )


def _extraction(article_id: str, text: str, quotes: list[Quote], **extra: Any) -> Extraction:
    return Extraction(
        id=article_id,
        source=article_id,
        text=text,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        backend="rules",
        quotes=quotes,
        **extra,
    )


def seed_extraction() -> Extraction:
    text = SEED.read_text(encoding="utf-8")
    quotes = [_quote(text, f"q{i}", *spec) for i, spec in enumerate(SEED_QUOTES, 1)]
    failed_from = text.find("Kadhimi was also scheduled")
    failed_to = text.find("Iraq is a frequent theater")
    return _extraction(
        "kadhimi-in-iran",
        text,
        quotes,
        errors=[
            ChunkError(chunk=3, start=failed_from, end=failed_to, kind="timeout", message="no answer in 60 s")
        ],
        warnings=["1 model answer was not found in the source and was dropped"],
    )


def tricky_extraction() -> Extraction:
    ruiz = Speaker(name="Ana Ruiz", mention="Ana Ruiz", type="person")
    she = Speaker(name="Ana Ruiz", mention="She", type="person")
    cheap = "“Cheap tricks & <script>alert('boom')</script> won’t work,”"
    quotes = [
        _quote(TRICKY, "t1", cheap, "direct", ruiz, "said", []),
        _quote(TRICKY, "t2", "the plan “is dead” and later", "mixed", she, "added", ["the plan"]),
        _quote(TRICKY, "t3", "“is dead” and later told reporters it was", "indirect", she, "told", []),
        _quote(TRICKY, "t4", "it was “finished for good”", "mixed", she, "told", []),
    ]
    assert quotes[0].start == 0
    assert quotes[-1].end == len(TRICKY)
    return _extraction("tricky <one> & co", TRICKY, quotes)


def seed_verdicts(extraction: Extraction) -> list[Verdict]:
    def evidence(quote_id: str) -> Evidence:
        quote = next(q for q in extraction.quotes if q.id == quote_id)
        return Evidence(
            start=quote.start, end=quote.end, text=quote.text, speaker=quote.speaker, quote_id=quote.id
        )

    return [
        Verdict(
            claim=Claim(speaker="Hassan Rouhani", quote="Iraq stands with Iran in its economic crisis"),
            verdict="misattributed",
            score=97.0,
            confidence=0.97,
            evidence=evidence("q6"),
            actual_speaker="Mustafa al-Kadhimi",
        ),
        Verdict(
            claim=Claim(speaker="Mustafa al-Kadhimi", quote="politics in Iraq is based on trust"),
            verdict="altered",
            score=88.0,
            confidence=0.88,
            evidence=evidence("q7"),
            actual_speaker="Mustafa al-Kadhimi",
            diff=[
                DiffOp(
                    op="equal", claim="politics in Iraq is based on", article="politics in Iraq is based on"
                ),
                DiffOp(op="replace", claim="trust", article="goodwill"),
            ],
        ),
        Verdict(
            claim=Claim(speaker="Mustafa al-Kadhimi", quote="Iraq will leave the oil cartel"),
            verdict="not_found",
            score=0.0,
            confidence=0.9,
        ),
    ]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            f"headless Chromium is not installed ({CHROMIUM} and {CHROMEDRIVER}); "
            "install it with: apt-get install -y chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def pipeline_extraction() -> Extraction:
    """The seed as the offline pipeline really extracts it, so the report is tested on real output."""
    article = Article(id="kadhimi-in-iran (rules)", text=SEED.read_text(encoding="utf-8"))
    extraction = extract(article, backend="rules")
    assert len(extraction.quotes) >= 10
    return extraction


@pytest.fixture(scope="module")
def corpus() -> list[Extraction]:
    return [seed_extraction(), tricky_extraction(), pipeline_extraction()]


@pytest.fixture(scope="module")
def report(
    browser: webdriver.Chrome, corpus: list[Extraction], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    page = tmp_path_factory.mktemp("report") / "report.html"
    verdicts = {corpus[0].id: seed_verdicts(corpus[0])}
    page.write_text(to_html(corpus, verdicts, title="Kadhimi in Iran — quotes"), encoding="utf-8")
    browser.get(page.as_uri())
    return page


# For every marked element in one article's text: its offset from the container's start and its length,
# both in code points (Python's unit) rather than JavaScript's UTF-16 units.
PIECES_JS = """
const box = document.getElementById(arguments[0]);
const points = (s) => Array.from(s).length;
return Array.from(box.querySelectorAll('[data-start]'), (el) => {
  const range = document.createRange();
  range.setStart(box, 0);
  range.setEndBefore(el);
  return {
    quote: el.dataset.quoteId || null,
    cls: el.className,
    offset: points(range.toString()),
    length: points(el.textContent),
    start: Number(el.dataset.start),
    end: Number(el.dataset.end),
  };
});
"""


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_quote_is_highlighted_exactly_over_its_offsets(
    browser: webdriver.Chrome, report: Path, corpus: list[Extraction], index: int
) -> None:
    extraction = corpus[index]
    text = extraction.text
    assert text is not None
    box_id = f"text-{index + 1}"
    container = browser.find_element(By.ID, box_id)
    assert browser.execute_script("return arguments[0].textContent", container) == text

    pieces = browser.execute_script(PIECES_JS, box_id)
    assert pieces, "no highlighted elements"
    for piece in pieces:
        assert (piece["offset"], piece["offset"] + piece["length"]) == (piece["start"], piece["end"]), piece

    for quote in extraction.quotes:
        elements = container.find_elements(By.CSS_SELECTOR, f'mark[data-quote-id="{quote.id}"]')
        assert elements, f"quote {quote.id} is not highlighted"
        joined = "".join(browser.execute_script("return arguments[0].textContent", el) for el in elements)
        assert joined == text[quote.start : quote.end] == quote.text
        mine = [(p["start"], p["end"]) for p in pieces if p["quote"] == quote.id]
        bounds = [quote.start, *(b for piece in mine for b in piece), quote.end]
        assert bounds[::2] == bounds[1::2], (
            f"quote {quote.id}: pieces {mine} do not tile {quote.start}–{quote.end}"
        )


def test_keyboard_focus_shows_the_tooltip_and_enter_jumps_to_the_row(
    browser: webdriver.Chrome, report: Path, corpus: list[Extraction]
) -> None:
    tip = browser.find_element(By.ID, "tip")
    assert not tip.is_displayed()
    browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    for _ in range(20):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.tag_name == "mark":
            break
    focused = browser.switch_to.active_element
    assert focused.tag_name == "mark", "Tab never reached a highlighted quote"
    quote = next(q for q in corpus[0].quotes if q.id == focused.get_attribute("data-quote-id"))
    assert quote.start == min(q.start for q in corpus[0].quotes)
    assert tip.is_displayed()
    shown = tip.text
    assert quote.speaker.name is not None
    assert quote.speaker.name in shown
    assert quote.cue is not None
    assert quote.cue in shown
    assert quote.kind in shown
    assert "grounding" in shown
    assert tip.get_attribute("role") == "tooltip"
    assert focused.get_attribute("tabindex") == "0"
    description = browser.find_element(By.ID, focused.get_attribute("aria-describedby") or "")
    assert quote.speaker.name in (description.get_attribute("textContent") or "")

    focused.send_keys(Keys.TAB)
    following = browser.switch_to.active_element
    assert following.get_attribute("data-quote-id") != quote.id
    assert tip.is_displayed()
    following.send_keys(Keys.ESCAPE)
    assert not tip.is_displayed()

    following.send_keys(Keys.ENTER)
    row = browser.switch_to.active_element
    assert row.tag_name == "tr"
    link = row.find_element(By.CSS_SELECTOR, "a.n")
    assert (link.get_attribute("href") or "").endswith("#" + (following.get_attribute("id") or "-"))

    link.send_keys(Keys.ENTER)
    back = browser.switch_to.active_element
    assert back.get_attribute("id") == following.get_attribute("id")
    assert tip.is_displayed()


def test_no_console_errors_and_no_fetches(browser: webdriver.Chrome, report: Path, tmp_path: Path) -> None:
    focus_first = "document.querySelector('mark[data-quote-id]').focus()"
    browser.execute_script(focus_first)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1440, min(int(height), 6000))
    browser.execute_script(focus_first)
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert (
        browser.execute_script("return document.querySelectorAll('script[src], link[rel=stylesheet]').length")
        == 0
    )


def test_the_verdicts_table_reads_confidence_and_both_sides_of_a_changed_word(
    browser: webdriver.Chrome, report: Path
) -> None:
    browser.get(report.as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "section.verdicts tbody tr")
    cells = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert [row[2:4] for row in cells] == [["0.97", "97"], ["0.88", "88"], ["0.90", "—"]]
    changed = rows[1].find_elements(By.CSS_SELECTOR, "del, ins")
    assert [(e.tag_name, e.text) for e in changed] == [("del", "trust"), ("ins", "goodwill")]
    assert cells[1][1].count("goodwill") == 0  # the diff is in its own column, not repeated in the claim's
