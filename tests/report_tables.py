"""Reading the HTML report's verdicts table back, for tests that check what it shows."""

from __future__ import annotations

import re


def verdict_rows(page: str) -> list[list[str]]:
    """The verdicts table's cells as text, one list a row, in the order of the page."""
    body = page[page.index('<section class="verdicts"') :]
    body = body[: body.index("</table>")]
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        for row in re.findall(r"<tr id=.*?</tr>", body, re.DOTALL)
    ]
