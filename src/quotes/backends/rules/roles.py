"""Roles: the titles before a name ("Iraqi Prime Minister") taken apart from the name."""

from __future__ import annotations

import re

from quotes.backends.rules.lexicon import TITLE_WORDS

_ROLE_WORD_RE = re.compile(r"^[A-Z][a-z]+(?:i|ian|an|ese|ish|ch)$")


def split_role(words: list[str]) -> tuple[list[str], list[str]]:
    """Leading titles ("Iraqi Prime Minister") and the name that follows them."""
    k = 0
    saw_title = False
    while k < len(words) - 1:
        lw = words[k].lower()
        if lw in TITLE_WORDS:
            saw_title = True
        elif not (_ROLE_WORD_RE.match(words[k]) and words[k + 1].lower() in TITLE_WORDS):
            break
        k += 1
    if not saw_title:
        return [], words
    return words[:k], words[k:]
