"""`quotes serve` in headless Chromium, used as a fact-checker would: check claims, upload an article,
follow "check a claim about this", search the archive and follow a result, wait for a slow model.

Needs Debian's chromium and chromium-driver; skipped when they are not installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from quotes.testing import StubReply, StubServer, chat_completion, error_body
from serving import CLAIMS, HARBOUR, build_archive, llm_service, rules_service, serve
from test_report_browser import PIECES_JS, TRICKY
from test_report_browser import browser as browser  # the fixture: one headless Chromium per module

pytestmark = pytest.mark.browser

HOSTILE_SPEAKER = '"><img src=x onerror="window.pwned=1">'
HOSTILE_WORDS = "<script>window.pwned=1</script> and ' onmouseover='window.pwned=2"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    archive = build_archive(tmp_path_factory.mktemp("archive") / "quotes.db")
    yield from serve(rules_service(archive))


@pytest.fixture(autouse=True)
def _fresh_console(browser: webdriver.Chrome) -> None:
    """Each test reads only its own console messages (a refused form's 400 is logged by the browser)."""
    browser.get_log("browser")


def _text(browser: webdriver.Chrome, element: WebElement) -> str:
    content: str = browser.execute_script("return arguments[0].textContent", element)
    return content


def _wait(browser: webdriver.Chrome, css: str, seconds: float = 20) -> WebElement:
    found: WebElement = WebDriverWait(browser, seconds).until(
        lambda b: (b.find_elements(By.CSS_SELECTOR, css) or [None])[0]
    )
    return found


def _paste(browser: webdriver.Chrome, text: str) -> None:
    """The article into the form's text box, as a user's paste would (send_keys types key by key)."""
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.NAME, "text"), text)


def _submit(browser: webdriver.Chrome) -> None:
    browser.find_element(By.CSS_SELECTOR, "form.work button[type=submit]").click()


def _read(browser: webdriver.Chrome, site: str, *, text: str = "", upload: Path | None = None) -> None:
    """Send an article to "Read an article", pasted or uploaded."""
    browser.get(f"{site}/read")
    if upload is not None:
        browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(upload))
    else:
        _paste(browser, text)
    _submit(browser)


def _check(
    browser: webdriver.Chrome, site: str, speaker: str, words: str, source: str, text: str = ""
) -> None:
    browser.get(f"{site}/check")
    browser.find_element(By.NAME, "speaker").send_keys(speaker)
    browser.find_element(By.NAME, "quote").send_keys(words)
    browser.find_element(By.ID, f"src-{source}").click()
    if text:
        _paste(browser, text)
    _submit(browser)
    _wait(browser, "section.verdict")


def _console_errors(browser: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize(("speaker", "words", "label", "said", "actual"), CLAIMS)
def test_each_verdict_is_said_in_plain_words_with_its_evidence_in_the_article(
    browser: webdriver.Chrome, site: str, speaker: str, words: str, label: str, said: str, actual: str | None
) -> None:
    _check(browser, site, speaker, words, "text", HARBOUR)
    verdict = browser.find_element(By.CSS_SELECTOR, "section.verdict")
    assert f"v-{label}" in (verdict.get_attribute("class") or "")
    assert verdict.find_element(By.CSS_SELECTOR, "h1 .words").text == said
    assert verdict.find_element(By.CSS_SELECTOR, "h1 .badge").is_displayed()
    if actual is not None:
        assert verdict.find_element(By.CSS_SELECTOR, ".actual").text == actual
    if label == "altered":
        assert [e.text for e in verdict.find_elements(By.CSS_SELECTOR, ".diff del")] == ["June"]
        assert [e.text for e in verdict.find_elements(By.CSS_SELECTOR, ".diff ins")] == ["May"]
    container = browser.find_element(By.ID, "text-1")
    assert _text(browser, container) == HARBOUR
    evidence = container.find_elements(By.CSS_SELECTOR, ".ev")
    if label == "not_found":
        assert evidence == []
    else:
        [mark] = evidence
        start, end = int(mark.get_attribute("data-start") or -1), int(mark.get_attribute("data-end") or -1)
        assert _text(browser, mark) == HARBOUR[start:end]
        assert words.casefold().split()[:4] == HARBOUR[start:end].casefold().split()[:4]
    assert _console_errors(browser) == []


def test_an_uploaded_article_is_highlighted_exactly_over_its_offsets(
    browser: webdriver.Chrome, site: str, tmp_path: Path
) -> None:
    upload = tmp_path / "ruiz & co <tricky>.txt"
    upload.write_bytes(TRICKY.encode("utf-8"))
    _read(browser, site, upload=upload)
    container = _wait(browser, "#text-1")
    assert _text(browser, container) == TRICKY

    expected = httpx.post(f"{site}/v1/extract", json={"text": TRICKY}).json()["quotes"]
    assert expected, "the rules backend found no statement in the article"
    for piece in browser.execute_script(PIECES_JS, "text-1"):
        assert (piece["offset"], piece["offset"] + piece["length"]) == (piece["start"], piece["end"]), piece
    for quote in expected:
        marks = container.find_elements(By.CSS_SELECTOR, f'mark[data-quote-id="{quote["id"]}"]')
        assert "".join(_text(browser, m) for m in marks) == TRICKY[quote["start"] : quote["end"]]
    assert browser.execute_script("return window.pwned === undefined && typeof alert === 'function'")
    assert "ruiz & co <tricky>" in browser.find_element(By.TAG_NAME, "h1").text
    assert _console_errors(browser) == []


def test_check_a_claim_about_a_statement_of_the_article_read(browser: webdriver.Chrome, site: str) -> None:
    _read(browser, site, text=HARBOUR)
    _wait(browser, "#text-1")
    links = browser.find_elements(By.CSS_SELECTOR, "a.check")
    assert len(links) == 2
    links[0].click()
    _wait(browser, "form.work")
    assert browser.find_element(By.ID, "src-ref").is_selected()
    assert browser.find_element(By.NAME, "speaker").get_attribute("value") == "Ana Ruiz"
    assert (
        browser.find_element(By.NAME, "quote").get_attribute("value") == "“The harbour will reopen in May,”"
    )
    _submit(browser)
    verdict = _wait(browser, "section.verdict")
    assert "v-supported" in (verdict.get_attribute("class") or "")
    assert "the article “pasted article”" in verdict.text


def test_search_the_archive_and_follow_a_result(browser: webdriver.Chrome, site: str) -> None:
    browser.get(f"{site}/search")
    browser.find_element(By.NAME, "q").send_keys("cables")
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    _wait(browser, "ol.hits")
    [hit] = browser.find_elements(By.CSS_SELECTOR, "ol.hits li.hit")
    assert "Lio Brandt" in hit.text
    assert "kessel-bridge" in hit.text
    said = hit.find_element(By.CSS_SELECTOR, "a.said")
    words = said.text.strip("“”")
    said.click()
    followed = _wait(browser, "mark.q.followed")
    assert words in _text(browser, followed)
    assert browser.switch_to.active_element == followed
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Who said what in “kessel-bridge”"
    assert _console_errors(browser) == []


def test_a_claim_across_the_archive_shows_the_earliest_source_first(
    browser: webdriver.Chrome, site: str
) -> None:
    _check(browser, site, "Ana Ruiz", "the harbour will reopen in May", "archive")
    verdict = browser.find_element(By.CSS_SELECTOR, "section.verdict")
    assert "v-supported" in (verdict.get_attribute("class") or "")
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "h2.evhead")]
    holding = [h for h in headings if "Supported" in h]
    assert [h.split(": ")[1].split(" ")[0] for h in holding] == ["varnholm-harbour", "varnholm-quay-later"]
    assert "2024-03-01" in holding[0]
    assert _console_errors(browser) == []


def test_hostile_claims_and_articles_stay_text(browser: webdriver.Chrome, site: str) -> None:
    article = f"{HOSTILE_SPEAKER} said “{HOSTILE_WORDS}” on Friday.\n"
    _check(browser, site, HOSTILE_SPEAKER, HOSTILE_WORDS, "text", article)
    claim = browser.find_element(By.CSS_SELECTOR, "section.verdict .claim")
    assert HOSTILE_SPEAKER in claim.text
    assert HOSTILE_WORDS in claim.text
    assert _text(browser, browser.find_element(By.ID, "text-1")) == article
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "main img, main script") == []


def test_a_bad_upload_is_refused_on_the_form_and_a_cp1252_one_read(
    browser: webdriver.Chrome, site: str, tmp_path: Path
) -> None:
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    _read(browser, site, upload=binary)
    alert = _wait(browser, "form .notice.bad")
    assert "photo.txt: looks binary" in alert.text

    legacy = tmp_path / "old-desk.txt"
    legacy.write_bytes("“Caf\xe9 prices will rise,” said Jo\xe3o Pires.\n".encode("cp1252"))
    _read(browser, site, upload=legacy)
    _wait(browser, "#text-1")
    assert "not valid UTF-8" in browser.find_element(By.CSS_SELECTOR, ".notice.warn").text
    assert "Café prices will rise" in browser.find_element(By.ID, "text-1").text


def test_long_work_shows_what_it_is_doing_then_the_result(browser: webdriver.Chrome) -> None:
    answer = {
        "quotes": [
            {
                "quote": "The harbour will reopen in May,",
                "speaker": "Ana Ruiz",
                "speaker_mention": "Ana Ruiz",
                "speaker_type": "person",
                "kind": "direct",
                "cue": "said",
                "about": [],
            }
        ]
    }

    def handler(request: object) -> StubReply:
        return StubReply(json=chat_completion(json.dumps(answer)), delay=3.0)

    with StubServer(handler) as stub:
        for base in serve(llm_service(stub.base_url)):
            _read(browser, base, text=HARBOUR)
            working = _wait(browser, "section.working")
            assert working.get_attribute("aria-busy") == "true"
            assert "extracting the statements of" in browser.find_element(By.ID, "stage").text
            _wait(browser, "#text-1", seconds=30)
            [mark] = browser.find_elements(By.CSS_SELECTOR, "#text-1 mark.q")
            assert _text(browser, mark) == "The harbour will reopen in May,"
            assert _console_errors(browser) == []


def test_a_failed_model_call_says_what_failed_and_what_was_kept(browser: webdriver.Chrome) -> None:
    def handler(request: object) -> StubReply:
        return StubReply(status=500, json=error_body("the model server fell over", type="server_error"))

    with StubServer(handler) as stub:
        for base in serve(llm_service(stub.base_url)):
            _read(browser, base, text=HARBOUR)
            notice = _wait(browser, ".result .notice.bad", seconds=30)
            assert "The model failed on part of the article" in notice.text
            assert f"characters 0–{len(HARBOUR)}" in notice.text
            assert "0 statements found elsewhere are kept" in notice.text


def test_no_page_fetches_anything_from_elsewhere(browser: webdriver.Chrome, site: str) -> None:
    for path in ("/check", "/read", "/search?q=harbour", "/articles/varnholm-harbour"):
        browser.get(f"{site}{path}")
        resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert resources, f"{path} loaded no stylesheet or script"
        assert all(name.startswith(site) for name in resources), resources
        assert _console_errors(browser) == [], path
