"""Score the offline rules backend on PolNeAR gold-dev and measure its speed.

PolNeAR is read at run time from ../shared/eval/polnear/gold-dev.jsonl (relative to the repository);
it is never copied into the repository. Run by hand:

    .venv/bin/python bench/eval_polnear.py [--json out.json] [--gold PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console

from quotes.backends.rules import RULES_VERSION, extract_quotes
from quotes.evaluate import load_gold, score_all, score_restricted, summary_table
from quotes.schema import Quote

REPO = Path(__file__).resolve().parent.parent
# ../shared beside the repository, or beside the folder of worktrees it sits in (/work/wt/<name>)
DEFAULT_GOLD = next(
    (
        path
        for base in (REPO.parent, REPO.parent.parent)
        if (path := base / "shared" / "eval" / "polnear" / "gold-dev.jsonl").is_file()
    ),
    REPO.parent / "shared" / "eval" / "polnear" / "gold-dev.jsonl",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the reports and speed here as JSON")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest counts (default: 3)")
    args = parser.parse_args(argv)
    console = Console(width=140)
    if not args.gold.is_file():
        console.print(
            f"PolNeAR gold not found at {args.gold}: it lives outside the repository, in ../shared/eval."
        )
        return 2
    gold = load_gold(args.gold)
    # CPU time, best of several passes, so other load on the machine does not distort the speed figure.
    elapsed = float("inf")
    predictions: dict[str, list[Quote]] = {}
    for _ in range(max(1, args.repeat)):
        started = time.process_time()
        predictions = {article.id: extract_quotes(article.text) for article in gold}
        elapsed = min(elapsed, time.process_time() - started)
    reports = score_restricted(gold, predictions)
    unrestricted = score_all(gold, predictions)
    per_second = len(gold) / elapsed if elapsed else float("inf")
    console.print(summary_table(reports, "rules, asked for each subset's kinds (quotes eval's default)"))
    console.print(
        summary_table(unrestricted, "rules, every prediction in every subset (quotes eval --unrestricted)")
    )
    chars = sum(len(a.text) for a in gold)
    per_5kb = chars / elapsed / 5000 if elapsed else float("inf")
    console.print(
        f"rules v{RULES_VERSION}: {len(gold)} articles ({chars / len(gold) / 1000:.1f} KB average) "
        f"in {elapsed:.2f} s CPU = {per_second:.0f} articles/s on one core "
        f"(≈ {per_5kb:.0f} articles/s at 5 KB each)"
    )
    if args.json:
        payload = {
            "gold": str(args.gold),
            "rules_version": RULES_VERSION,
            "articles_per_second": per_second,
            "articles_per_second_at_5kb": per_5kb,
            "reports": [r.to_dict() for r in reports],
            "unrestricted": [r.to_dict() for r in unrestricted],
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
