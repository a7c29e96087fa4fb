"""Verdict accuracy of `quotes verify` (rules backend) on claims generated from PolNeAR gold-dev.

PolNeAR is read at run time from ../shared/eval/polnear/gold-dev.jsonl (relative to the repository); it
is never copied into the repository. For each article, from its direct quotes whose gold speaker is a
name (not a pronoun or a description), claims of four classes are made:

- supported: the quote's first words (up to 12, inside its first pair of quotation marks) with its gold
  speaker's name;
- misattributed: the same stretch given to another named speaker of the same article (sharing no word
  with the real one's name);
- altered: the stretch with a number changed, or else a negation inserted after its first auxiliary verb;
- absent: a stretch from another article's quote, given to a named speaker of this one.

The right verdicts are supported, misattributed, altered and not_found. Run by hand:

    .venv/bin/python bench/verify_polnear.py [--articles N] [--seed S] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from quotes.evaluate import GoldArticle, load_gold
from quotes.pipeline import Extractor, choose_backend
from quotes.schema import Article, Claim, Verdict, VerdictLabel
from quotes.verify import Verifier
from quotes.wording import joined, words

REPO = Path(__file__).resolve().parent.parent
# ../shared beside the main checkout, or two levels up from a worktree in /work/wt/<name>.
DEFAULT_GOLD = next(
    (
        gold
        for up in (REPO.parent, REPO.parent.parent)
        if (gold := up / "shared/eval/polnear/gold-dev.jsonl").is_file()
    ),
    REPO.parent / "shared/eval/polnear/gold-dev.jsonl",
)
RIGHT: dict[str, VerdictLabel] = {
    "supported": "supported",
    "misattributed": "misattributed",
    "altered": "altered",
    "absent": "not_found",
}
MAX_WORDS = 12
MIN_WORDS = 5

_NAME = re.compile(r"^(?:[A-Z][\w.'’-]*\s+){0,3}[A-Z][\w'’-]+$")
_NOT_NAMES = frozenset(
    [
        "He",
        "She",
        "They",
        "It",
        "We",
        "I",
        "You",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "His",
        "Her",
        "Their",
        "Its",
        "A",
        "An",
        "Some",
        "Others",
    ]
)
_AUX = re.compile(r"\b(is|are|was|were|will|would|can|could|should|do|does|did|has|have|had)\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


@dataclass(frozen=True)
class Case:
    kind: str
    claim: Claim


def _named(speaker: str | None) -> str | None:
    if (
        not speaker
        or not _NAME.match(speaker)
        or speaker.split()[0] in _NOT_NAMES
        or speaker.endswith(("’s", "'s"))
    ):
        return None
    return speaker


def _stretch(quote: str) -> str | None:
    """The quote's first words inside its first pair of quotation marks, as a fact-checker quotes them."""
    inner = re.split(r"[”\"]", quote.lstrip(" \"“‘'"), maxsplit=1)[0]
    words = inner.strip(" ‘’'.,;:").split()
    if len(words) < MIN_WORDS:
        return None
    return " ".join(words[:MAX_WORDS])


def _altered(stretch: str) -> str | None:
    number = _NUMBER.search(stretch)
    if number:
        digits = number.group().replace(",", "")
        changed = str(int(float(digits)) + 7) if digits.replace(".", "").isdigit() else "13"
        return stretch[: number.start()] + changed + stretch[number.end() :]
    aux = _AUX.search(stretch)
    if aux:
        return stretch[: aux.end()] + " not" + stretch[aux.end() :]
    return None


def cases_for(article: GoldArticle, others: list[str], rng: random.Random) -> list[Case]:
    direct = [q for q in article.quotes if q.kind == "direct" and _named(q.speaker)]
    names = sorted({q.speaker for q in direct if q.speaker})
    cases: list[Case] = []
    for n, quote in enumerate(direct):
        stretch = _stretch(quote.text)
        speaker = quote.speaker
        if stretch is None or speaker is None:
            continue
        cid = f"{article.id}#{n}"
        cases.append(Case("supported", Claim(id=f"{cid}/s", speaker=speaker, quote=stretch)))
        strangers = [
            name for name in names if not set(name.casefold().split()) & set(speaker.casefold().split())
        ]
        if strangers:
            other = rng.choice(strangers)
            cases.append(Case("misattributed", Claim(id=f"{cid}/m", speaker=other, quote=stretch)))
        altered = _altered(stretch)
        if altered is not None:
            cases.append(Case("altered", Claim(id=f"{cid}/a", speaker=speaker, quote=altered)))
        absent = rng.choice(others)
        if joined(words(absent)) not in joined(words(article.text)):
            cases.append(Case("absent", Claim(id=f"{cid}/x", speaker=speaker, quote=absent)))
    return cases


async def judge(
    articles: list[GoldArticle], rng: random.Random
) -> tuple[list[tuple[Case, Verdict, bool]], float]:
    """Every case's verdict, and the CPU seconds spent judging (indexing articles and checking claims,
    not extracting them)."""
    stretches = [
        s for a in articles for q in a.quotes if q.kind == "direct" and (s := _stretch(q.text)) is not None
    ]
    chosen, _ = choose_backend("rules")
    results: list[tuple[Case, Verdict, bool]] = []
    spent = 0.0
    async with Extractor(chosen) as extractor:
        for gold in articles:
            others = [s for s in rng.sample(stretches, 20) if s not in gold.text]
            cases = cases_for(gold, others, rng)
            if not cases:
                continue
            article = Article(id=gold.id, text=gold.text)
            extraction = await extractor.aextract(article)
            started = time.process_time()
            verifier = Verifier(article, extraction)
            for case in cases:
                verdict = await verifier.check(case.claim)
                results.append((case, verdict, case.kind != "absent"))
            spent += time.process_time() - started
    return results, spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL (default: %(default)s)")
    parser.add_argument("--articles", type=int, default=0, help="only the first N articles (default: all)")
    parser.add_argument("--seed", type=int, default=15, help="random seed for stretches and pairings")
    parser.add_argument("--json", type=Path, help="also write every claim and verdict here")
    parser.add_argument("--misses", type=int, default=0, help="print this many wrong verdicts per class")
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository, in ../shared/eval.")
        return 2
    articles = load_gold(args.gold)
    if args.articles:
        articles = articles[: args.articles]
    rng = random.Random(args.seed)
    results, spent = asyncio.run(judge(articles, rng))
    by_class: dict[str, Counter[str]] = {kind: Counter() for kind in RIGHT}
    for case, verdict, _ in results:
        by_class[case.kind][verdict.verdict] += 1
    print(
        f"{len(results)} claims from {len(articles)} PolNeAR dev articles (rules backend, seed {args.seed})"
    )
    print(f"{'class':<14}{'claims':>7}{'right':>8}  verdicts")
    right_total = 0
    for kind, counts in by_class.items():
        total = sum(counts.values())
        right = counts[RIGHT[kind]]
        right_total += right
        shown = ", ".join(f"{label} {n}" for label, n in counts.most_common())
        print(f"{kind:<14}{total:>7}{100 * right / max(1, total):>7.1f}%  {shown}")
    print(f"{'overall':<14}{len(results):>7}{100 * right_total / max(1, len(results)):>7.1f}%")
    hidden = sum(1 for _, verdict, present in results if present and verdict.verdict == "not_found")
    print(f"not_found for words the article holds: {hidden}")
    print(f"judging: {1000 * spent / max(1, len(results)):.1f} ms CPU per claim (indexing included)")
    for kind in RIGHT:
        misses = [(c, v) for c, v, _ in results if c.kind == kind and v.verdict != RIGHT[kind]]
        for case, verdict in misses[: args.misses]:
            print(f"  {kind} → {verdict.verdict}: {case.claim.speaker}: {case.claim.quote!r}")
            print(f"      {verdict.explanation}")
    if args.json:
        rows = [{"class": c.kind, **v.model_dump(mode="json")} for c, v, _ in results]
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
