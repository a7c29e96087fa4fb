"""Take the README's screenshots of `quotes serve` in headless Chromium (the tests' invented articles).

.venv/bin/python docs/screenshots.py      # writes docs/serve-check.png, serve-read.png, serve-search.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from serving import HARBOUR, build_archive, rules_service, serve  # noqa: E402


def _submit_article(driver: webdriver.Chrome, text: str) -> None:
    area = driver.find_element(By.NAME, "text")
    driver.execute_script("arguments[0].value = arguments[1]", area, text)
    driver.find_element(By.CSS_SELECTOR, "form.work button[type=submit]").click()


def main() -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                 "--hide-scrollbars", "--force-device-scale-factor=1"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=ChromeService("/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 20)
    with tempfile.TemporaryDirectory() as folder:
        archive = build_archive(Path(folder) / "quotes.db")
        for site in serve(rules_service(archive)):
            driver.get(f"{site}/check")
            driver.find_element(By.NAME, "speaker").send_keys("Tomas Vell")
            driver.find_element(By.NAME, "quote").send_keys("The harbour will reopen in May")
            driver.find_element(By.ID, "src-text").click()
            _submit_article(driver, HARBOUR)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.verdict"))
            driver.save_screenshot(str(DOCS / "serve-check.png"))

            driver.get(f"{site}/read")
            _submit_article(driver, HARBOUR)
            wait.until(lambda d: d.find_elements(By.ID, "text-1"))
            driver.save_screenshot(str(DOCS / "serve-read.png"))

            driver.get(f"{site}/search?since=2024-01-01")
            driver.save_screenshot(str(DOCS / "serve-search.png"))
    driver.quit()


if __name__ == "__main__":
    main()
