"""Time chunking a 50 MB text and grounding 200 quotes in a 1 MB article (exact, normalized, fuzzy).

The texts are generated here (random words, hard-wrapped lines, curly quotes). Run by hand:

    .venv/bin/python bench/speed_text.py
"""

from __future__ import annotations

import random
import string
import time

from quotes.chunking import chunk_text
from quotes.grounding import SourceText


def generated(size: int, seed: int) -> str:
    rng = random.Random(seed)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(5000)]
    paragraphs, total = [], 0
    while total < size:
        sentences = []
        for _ in range(5):
            sentence = " ".join(rng.choices(words, k=rng.randint(8, 25))).capitalize()
            sentences.append(sentence + rng.choice([".", ".", ",” he said.", "."]))
        paragraph = " ".join(sentences).replace(" the", "\nthe")
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:size]


def time_chunking() -> None:
    for label, text in [
        ("news-like", generated(50_000_000, 1)),
        ("no whitespace", "x" * 50_000_000),
        ("one line of short sentences", ("He said it. " * 4_200_000)[:50_000_000]),
    ]:
        began = time.perf_counter()
        chunks = chunk_text(text)
        print(f"chunk_text, 50 MB {label}: {len(chunks)} chunks in {time.perf_counter() - began:.2f} s")


def time_grounding() -> None:
    text = generated(1_000_000, 2)
    began = time.perf_counter()
    source = SourceText(text)
    print(f"SourceText, 1 MB: built in {time.perf_counter() - began:.3f} s")
    rng = random.Random(3)
    needles = []
    for i in range(200):
        start = text.index(" ", rng.randrange(0, len(text) - 400)) + 1
        end = text.index(" ", start + rng.randint(60, 250))
        needle = text[start:end]
        if i % 3 == 1:
            needle = " ".join(needle.split()).upper()
        elif i % 3 == 2:
            words = needle.split()
            words[len(words) // 2] = "zz" + words[len(words) // 2]
            needle = " ".join(words)
        needles.append((start, end, needle))
    for label, windowed in [("12 000-character windows", True), ("the whole text", False)]:
        counts: dict[str, int] = {}
        began = time.perf_counter()
        for start, end, needle in needles:
            lo, hi = (max(0, start - 6000), end + 6000) if windowed else (0, None)
            found = source.align_quote(needle, lo, hi)
            status = found.status if found else "none"
            counts[status] = counts.get(status, 0) + 1
        elapsed = time.perf_counter() - began
        print(f"align_quote, 200 needles in 1 MB, {label}: {elapsed:.3f} s {counts}")


if __name__ == "__main__":
    time_chunking()
    time_grounding()
