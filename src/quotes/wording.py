"""Words of a claim against words of an article: which differences change the meaning, and which do not.

Texts are compared as word tokens, so quotation marks (straight or curly), dashes, whitespace, case and
punctuation never count. A diff between a claim's words and the article's is then read op by op. These
differences are harmless *variants*, named so a fact-checker sees them:

- a spelling variant (`honour` / `honor`, from the list in `assets/wording-en.json`, with its
  inflections), a figure's separators (`1200` / `1,200`), or a difference of case;
- a compound written as one word, two words or with a hyphen (`good will` / `goodwill`, `e-mail` /
  `email`): the same letters in the same order, each part of a spaced compound at least
  `COMPOUND_MIN_PART` letters long (so `a part` is not `apart`);
- an ellipsis in the claim standing for words the article has, when they hold no negation;
- the attribution interrupting a quotation (`“The budget does not add up,” he said. “Someone will pay”`
  claimed as one run of words);
- the person and tense shift of reported speech: the article's `they discussed`, `his country` or `the
  quay would open`, written by the reporter outside quotation marks, claimed as the speaker's `we
  discussed`, `my country` or `the quay will open` (pronouns of the same role, first person against third,
  with the verbs that agree with them; a verb moved back a tense, never forward).

Any other difference is a *change*, named by what it touches: a negation, a number, a name, or wording.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

from quotes.schema import DiffOp

COMPOUND_MIN_PART = 3

# A figure is one word with its separators ("4,000", "1.2"); any other word may hold apostrophes.
_WORD = re.compile(r"\d+(?:[.,]\d+)*(?![^\W_])|[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans(dict.fromkeys("’‘‛′`", "'"))
_ELLIPSIS = re.compile(r"…|\.\s?\.\s?\.|\[\s*(?:…|\.\.\.)\s*\]")
_NEGATIONS = frozenset({"not", "no", "never", "cannot", "nor", "neither", "nothing", "none", "nobody"})
_OPS: dict[str, Literal["equal", "insert", "delete", "replace"]] = {
    "equal": "equal",
    "insert": "insert",
    "delete": "delete",
    "replace": "replace",
}

Change = Literal["negation", "number", "name", "wording"]


@dataclass(frozen=True)
class _Lexicon:
    spelling: dict[str, str]  # any spelling -> the one words are compared in
    pronouns: dict[str, set[tuple[str, str]]]  # pronoun -> {(role, person)}
    agreement: dict[str, int]  # verb form -> its group
    number_words: frozenset[str]
    backshift: dict[str, str]  # the speaker's tense -> the reporter's


def _inflections(word: str) -> list[str]:
    stem = word[:-1] if word.endswith("e") else word
    forms = [word, word + "s", stem + "ed", stem + "ing"]
    if word.endswith(("ise", "ize")):
        forms.append(stem + "ation")
    return forms


@cache
def _lexicon() -> _Lexicon:
    data = json.loads(files("quotes").joinpath("assets/wording-en.json").read_text(encoding="utf-8"))
    spelling: dict[str, str] = {}
    for british, american in data["spelling"]:
        for variant, canonical in zip(_inflections(british), _inflections(american), strict=False):
            spelling.setdefault(variant, canonical)
    pronouns: dict[str, set[tuple[str, str]]] = {}
    for role, persons in data["pronouns"].items():
        for person, forms in persons.items():
            for form in forms:
                pronouns.setdefault(form, set()).add((role, person))
    agreement = {form: n for n, group in enumerate(data["agreement"]) for form in group}
    backshift: dict[str, str] = dict(data["backshift"])
    return _Lexicon(spelling, pronouns, agreement, frozenset(data["number_words"]), backshift)


# --- words ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """A word token: `norm` is how it is compared (casefolded, one apostrophe, one spelling), `start` and
    `end` its offsets in the text it came from."""

    norm: str
    start: int
    end: int
    folded: str  # casefolded as written, to name a spelling variant


def words(text: str, lo: int = 0, hi: int | None = None) -> list[Word]:
    """Word tokens of text[lo:hi) with their offsets."""
    spelling = _lexicon().spelling
    piece = text[lo:hi].translate(_APOSTROPHES)  # length-preserving, so offsets stay the text's
    found = []
    for m in _WORD.finditer(piece):
        folded = m.group().casefold()
        norm = folded.replace(",", "") if folded[0].isdigit() else spelling.get(folded, folded)
        found.append(Word(norm, lo + m.start(), lo + m.end(), folded))
    return found


def ellipses(text: str, tokens: Sequence[Word]) -> frozenset[int]:
    """Where the text has an ellipsis: the index of the token after it (len(tokens) at the end)."""
    return frozenset(sum(1 for w in tokens if w.start < m.start()) for m in _ELLIPSIS.finditer(text))


def joined(tokens: Sequence[Word]) -> str:
    return " ".join(w.norm for w in tokens)


def is_negation(word: str) -> bool:
    return word in _NEGATIONS or word.endswith("n't")


def negated(tokens: Sequence[Word]) -> bool:
    return any(is_negation(w.norm) for w in tokens)


def numbers(tokens: Sequence[Word]) -> set[str]:
    return {w.norm for w in tokens if any(c.isdigit() for c in w.norm)}


def stem(word: str) -> str:
    word = word.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


# --- comparing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A claim's words against the article's: the diff, the harmless variants and the changes, named."""

    ops: list[DiffOp]
    variants: list[str]
    changes: list[Change]
    skipped: frozenset[int] = frozenset()  # the article's words an ellipsis or an attribution stands for

    @property
    def same(self) -> bool:
        """Whether the words say the same: no change, whatever the variants."""
        return not self.changes


def compare(
    claim: Sequence[Word],
    claim_text: str,
    found: Sequence[Word],
    text: str,
    *,
    claim_ellipses: frozenset[int] = frozenset(),
    reported: Callable[[int], bool] = lambda _: False,
) -> Comparison:
    """Compare the claim's words with the article's `found` words (from `text`).

    `reported(offset)` says whether the article's word at that offset is in the reporter's voice (outside
    quotation marks), where a pronoun or a tense may be shifted as reported speech shifts them.
    """
    matcher = difflib.SequenceMatcher(None, [w.norm for w in claim], [w.norm for w in found], autojunk=False)
    ops: list[DiffOp] = []
    variants: list[str] = []
    changes: list[Change] = []
    skipped: set[int] = set()

    def show(tokens: Sequence[Word], source: str) -> str:
        return " ".join(source[w.start : w.end] for w in tokens)

    def note(variant: str) -> None:
        if variant not in variants:
            variants.append(variant)

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        ours, theirs = claim[i1:i2], found[j1:j2]
        ops.append(DiffOp(op=_OPS[tag], claim=show(ours, claim_text), article=show(theirs, text)))
        if tag == "equal":
            for k, (c, a) in enumerate(zip(ours, theirs, strict=True), start=i1):
                if c.folded != a.folded:
                    kind = "figure" if c.folded[0].isdigit() else "spelling"
                    note(f"{kind} “{claim_text[c.start : c.end]}” / “{text[a.start : a.end]}”")
                elif k and claim_text[c.start : c.end] != text[a.start : a.end]:
                    note("case")  # not of the first word, which a claim quoting from mid-sentence lowers
            continue
        interrupted = (
            j1 > 0 and j2 < len(found) and not reported(found[j1 - 1].start) and not reported(found[j2].start)
        )
        variant = _variant(ours, claim_text, theirs, text, i1 in claim_ellipses, reported) or (
            f"the attribution “{_span(theirs, text)}” between quoted words"
            if interrupted and not ours and all(reported(w.start) for w in theirs)
            else None
        )
        if variant is not None:
            note(variant)
            if not ours:
                skipped.update(range(j1, j2))
            continue
        change = _change(ours, claim_text, theirs, text)
        if change not in changes:
            changes.append(change)
    return Comparison(ops, variants, changes, frozenset(skipped))


def _variant(
    ours: Sequence[Word],
    claim_text: str,
    theirs: Sequence[Word],
    text: str,
    after_ellipsis: bool,
    reported: Callable[[int], bool],
) -> str | None:
    """The name of a harmless difference between these words, or None when it changes the meaning."""
    if ours and theirs and "".join(w.norm for w in ours) == "".join(w.norm for w in theirs):
        if _compound(ours, claim_text) and _compound(theirs, text):
            return f"compound “{_span(ours, claim_text)}” / “{_span(theirs, text)}”"
        return None
    if not ours and after_ellipsis and not negated(theirs):
        return f"an ellipsis for “{_span(theirs, text)}”"
    if ours and len(ours) == len(theirs):
        pairs = list(zip(ours, theirs, strict=True))
        shifts = [_reporting(c.norm, a.norm) if reported(a.start) else None for c, a in pairs]
        if any(shifts) and all(
            shift or _agrees(c.norm, a.norm) for shift, (c, a) in zip(shifts, pairs, strict=True)
        ):
            kinds = " and ".join(kind for kind in ("person", "tense") if kind in shifts)
            named = ", ".join(
                f"“{claim_text[c.start : c.end]}” / “{text[a.start : a.end]}”"
                for shift, (c, a) in zip(shifts, pairs, strict=True)
                if shift
            )
            return f"{kinds} shift of reported speech ({named})"
    return None


def _reporting(claimed: str, article: str) -> Literal["person", "tense"] | None:
    """How a reporter's word differs from the speaker's in reported speech: a pronoun's person, or a verb
    moved back a tense ('will' / 'would', 'wants' / 'wanted'); None when it is no such shift."""
    if _shift(claimed, article):
        return "person"
    backshift = _lexicon().backshift
    if backshift.get(claimed) == article or (
        article.endswith("ed") and not claimed.endswith("ed") and stem(claimed) == stem(article)
    ):
        return "tense"
    return None


def _span(tokens: Sequence[Word], source: str) -> str:
    return source[tokens[0].start : tokens[-1].end]


def _compound(tokens: Sequence[Word], source: str) -> bool:
    """One word, or parts joined by hyphens, or spaced parts each long enough to be a word of their own."""
    if len(tokens) == 1:
        return True
    gaps = [source[a.end : b.start] for a, b in itertools.pairwise(tokens)]
    if all(gap in ("-", "‐", "–") for gap in gaps):
        return True
    return all(gap.isspace() for gap in gaps) and all(len(w.norm) >= COMPOUND_MIN_PART for w in tokens)


def _shift(claimed: str, article: str) -> bool:
    """A first-person pronoun against a third-person one of the same role, either way round."""
    pronouns = _lexicon().pronouns
    ours, theirs = pronouns.get(claimed, set()), pronouns.get(article, set())
    return any(
        role == other_role and person != other_person
        for role, person in ours
        for other_role, other_person in theirs
    )


def _agrees(claimed: str, article: str) -> bool:
    """The same word, or the same verb in another person ('want' / 'wants', 'am' / 'is')."""
    if claimed == article or stem(claimed) == stem(article):
        return True
    agreement = _lexicon().agreement
    return claimed in agreement and agreement.get(article) == agreement[claimed]


def _change(ours: Sequence[Word], claim_text: str, theirs: Sequence[Word], text: str) -> Change:
    if negated(ours) != negated(theirs):
        return "negation"
    if _figures(ours) != _figures(theirs):
        return "number"
    if _capitalised(ours, claim_text) or _capitalised(theirs, text):
        return "name"
    return "wording"


def _figures(tokens: Sequence[Word]) -> set[str]:
    named = _lexicon().number_words
    return numbers(tokens) | {w.norm for w in tokens if w.norm in named}


def _capitalised(tokens: Sequence[Word], source: str) -> bool:
    """Whether a word is capitalised where a sentence does not start, as names are."""
    for w in tokens:
        before = source[: w.start].rstrip()
        if source[w.start].isupper() and before and before[-1] not in ".!?“\"'‘:" and w.norm != "i":
            return True
    return False
