"""How often the offline rules give a speaker the role the article gives them, and how fast they run.

PolNeAR gold-dev is read at run time from ../shared/eval/polnear/gold-dev.jsonl (relative to the
repository, or to the folder of worktrees it sits in); only its article texts are used (PolNeAR has no
role annotation), and nothing from it is copied into the repository. Run by hand:

    .venv/bin/python bench/rules_roles.py [--gold PATH] [--repeat N] [--json out.json]

How it counts. Each article goes through `quotes.extract(text, backend="rules")`, the whole pipeline a
user gets (rules, grounding, merge, canonical speaker names). A *named speaker* is a distinct (article,
speaker name) pair whose name has two or more capitalised words and whose type is person. The article
*gives* that speaker a title or an apposition when the full name appears in the text
  - right after a title or job word of this script's own list `TITLES` (not the rules' lexicon), with at
    most three words between them that are lowercase or capitalised ("Iranian President Hassan Rouhani",
    "campaign manager Robby Mook", "retired neurosurgeon Ben Carson"), or
  - right before an apposition: a comma, then "a", "an", "the", a possessive or a `TITLES` word, and up to
    80 characters to the next comma or full stop ("Eve Smith, a retired surgeon,").
A named speaker has a role when every one of their records in the article has a non-empty `role`
(reported as well: at least one record). Speed is the CPU time of `extract_quotes` alone over the
articles, best of `--repeat` passes, scaled to 5 KB articles.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import quotes
from eval_polnear import DEFAULT_GOLD
from quotes.backends.rules import RULES_VERSION, extract_quotes
from quotes.evaluate import load_gold

_TITLE_LIST = """president senator sen. rep. representative gov. governor mayor secretary minister chairman
chairwoman chair director judge justice general gen. dr. professor prof. ambassador speaker leader ceo
chief spokesman spokeswoman spokesperson adviser advisor aide manager strategist nominee candidate
attorney commissioner councilman councilwoman congressman congresswoman lawmaker host anchor pastor
rev. surgeon neurosurgeon businessman businesswoman founder executive economist analyst pollster
officer sheriff treasurer chancellor king queen pope lt. col. sgt. capt. reporter columnist editor
historian lawyer activist coordinator consultant organizer chairperson whip premier delegate"""
TITLES = frozenset(_TITLE_LIST.split())
_WORD = r"[A-Za-z][\w.’'-]*"


def gives_role(text: str, name: str) -> bool:
    """Whether the article sets a title before `name` or an apposition after it (see the module doc)."""
    escaped = re.escape(name)
    for match in re.finditer(rf"((?:{_WORD}[ \t]+){{1,4}}){escaped}\b", text):
        before = match.group(1).split()
        if any(word.lower() in TITLES for word in before[-4:]):
            return True
    apposition = rf"{escaped},\s+(?:a|an|the|{_WORD}[’']s|{_WORD})\b[^,.;\n]{{0,80}}[,.]"
    for match in re.finditer(apposition, text):
        head = match.group().split(",", 1)[1].split()[0].lower()
        if head in ("a", "an", "the") or head.endswith(("’s", "'s")) or head in TITLES:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest counts (default: 3)")
    parser.add_argument("--json", type=Path, help="also write the counts and speed here as JSON")
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository, in ../shared/eval.")
        return 2
    articles = [(a.id, a.text) for a in load_gold(args.gold)]
    roles: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for article_id, text in articles:
        for quote in quotes.extract(text, backend="rules").quotes:
            name = quote.speaker.name or ""
            if quote.speaker.type == "person" and sum(w[:1].isupper() for w in name.split()) >= 2:
                roles[(article_id, name)].append(bool(quote.speaker.role))
    texts = dict(articles)
    given = {key: has for key, has in roles.items() if gives_role(texts[key[0]], key[1])}
    every = sum(all(has) for has in given.values())
    some = sum(any(has) for has in given.values())
    elapsed = float("inf")
    for _ in range(max(1, args.repeat)):
        started = time.process_time()
        for _, text in articles:
            extract_quotes(text)
        elapsed = min(elapsed, time.process_time() - started)
    chars = sum(len(text) for _, text in articles)
    per_5kb = chars / elapsed / 5000
    print(
        f"rules v{RULES_VERSION}: {len(roles)} named speakers in {len(articles)} articles; the article gives "
        f"{len(given)} of them a title or apposition; a role on every record for {every} "
        f"({100 * every / max(1, len(given)):.1f} %), on at least one for {some} "
        f"({100 * some / max(1, len(given)):.1f} %)"
    )
    print(
        f"speed: {len(articles) / elapsed:.0f} articles/s on one core at "
        f"{chars / len(articles) / 1000:.1f} KB (≈ {per_5kb:.0f} articles/s at 5 KB), best of {args.repeat}"
    )
    if args.json:
        payload = {
            "rules_version": RULES_VERSION,
            "named_speakers": len(roles),
            "given_a_role": len(given),
            "role_on_every_record": every,
            "role_on_some_record": some,
            "articles_per_second_at_5kb": per_5kb,
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
