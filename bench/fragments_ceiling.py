"""How much of a run's loss is fragments a record cannot express: the run scored as it is, and again with
every prediction whose span is a gold statement's given that statement's own fragments.

    .venv/bin/python bench/fragments_ceiling.py PREDICTIONS.jsonl --articles 500 [--gold PATH]

PREDICTIONS is a run of the first N gold articles (bench/run_one.py or compare.py's work folder). PolNeAR is
read at run time from ../shared/eval and never copied into the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from perfect_model import corpus
from quotes.evaluate import GoldArticle, load_gold, score_all
from quotes.runlog import read_extractions
from quotes.schema import Quote
from run_one import DEFAULT_GOLD


def with_gold_fragments(article: GoldArticle, predictions: list[Quote]) -> tuple[list[Quote], int]:
    split = {(g.start, g.end): g.fragments() for g in article.quotes if len(g.fragments()) > 1}
    out, changed = [], 0
    for quote in predictions:
        fragments = split.get((quote.start, quote.end))
        if fragments is not None and quote.fragments() != fragments:
            quote = quote.model_copy(update={"spans": list(fragments)})
            changed += 1
        out.append(quote)
    return out, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository.", file=sys.stderr)
        return 2
    gold = corpus(load_gold(args.gold), args.articles)
    predicted = {e.id: list(e.quotes) for e in read_extractions(args.predictions)}
    before = {r.subset: r for r in score_all(gold, predicted)}["all"]
    changed = 0
    for article in gold:
        predicted[article.id], count = with_gold_fragments(article, predicted.get(article.id, []))
        changed += count
    after = {r.subset: r for r in score_all(gold, predicted)}["all"]
    for label, report in (("as run", before), (f"with gold fragments ({changed} changed)", after)):
        print(f"{label}: e2e F1 {100 * report.end_to_end.f1:.2f}, lenient F1 {100 * report.lenient.f1:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
