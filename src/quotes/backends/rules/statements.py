"""Statements: direct quotes with their attributions, and mixed and indirect statements around cues."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from quotes.backends.rules.lexicon import (
    AFTER_CUE_RE,
    AUX,
    CUE_RE,
    CUE_WORDS,
    DETERMINERS,
    EVIDENCE_NOUN_RE,
    EVIDENCE_VERBS,
    HEADLINE_KICKERS,
    INTENT_CUES,
    INVERTED_CUE_RE,
    IRREGULAR_PASTS,
    NAMING_CUES,
    NON_SPEAKER_CAPS,
    NOUN_CUE_RE,
    NOUN_OWNER_RE,
    PRONOUNS,
    QUANTIFIERS,
    QUOTING_ONLY_CUES,
    SAY_CUES,
    TIME_WORDS,
    WEAK_CUE_RE,
    WEAK_CUES,
    trie_pattern,
)
from quotes.backends.rules.scanning import (
    ALNUM_RE,
    QuoteUnit,
    Span,
    alnum_mask,
    count_words,
    paragraph_spans,
    quote_units,
    sentence_spans,
    strip_span,
    tokens,
    trim_end,
)
from quotes.backends.rules.speakers import (
    ATTRIBUTION_END_RE,
    PREPOSITION_RE,
    Mention,
    before_time,
    classify,
    is_cap,
    np_after,
    np_before,
    source_phrase,
    speaker_before,
)
from quotes.schema import Kind, SpeakerType


def _different_speakers(one: Record, other: Record) -> bool:
    a, b = one.turn_of or one, other.turn_of or other
    return (
        a.mention is not None and b.mention is not None and a.mention.text.lower() != b.mention.text.lower()
    )


@dataclass
class Record:
    """A statement: its fragments, kind, the speaker's mention and the cue. `turn_of` is, for a line of
    dialogue no attribution names, the record whose speaker takes this turn (the one two lines back)."""

    fragments: list[Span]
    kind: Kind
    mention: Mention | None
    cue: Span | None
    turn_of: Record | None = None


_CLAUSE_END_RE = re.compile(
    r"(?=[,;”\"'\s])(?:,[”\"']*\s+(?:and\s+|while\s+)?(?:also\s+|then\s+)?(?!(?:includ|dur|someth|noth|anyth|everyth)ing\b)[a-z]+ing\b|[”\"']*\s+and\s+(?:also\s+|then\s+)?"
    r"(?:adding|saying|noting|arguing|calling|pledging|vowing|insisting|warning|stressing|expressing)\b"
    r"|,[”\"']*\s+(?:but|which|while|although|though|whereas)\b|;\s"
    # ", and three-quarters said …": another attribution coordinated with the statement
    r"|,[ \t]+and[ \t]+(?=(?:[\w’'-]+[ \t]+){1,5}(?:said|say|says|told|added|argued|noted)\b)"
    # after a quotation, "and" + a new subject starts a new clause: called him a “fraud” and she left
    r"|(?<=[”\"'])\s+and\s+(?=(?:he|she|they|then|[A-Z][a-z]+)\b)"
    # a second reporting verb starts a statement of its own: "… and said …", "X, who asked …, said …"
    r"|(?:,[”\"']*\s+(?:and\s+)?|[”\"']*\s+and\s+)(?:also\s+|then\s+|later\s+)?"
    r"(?:said|told|added|suggested|argued|insisted|warned|noted|called|accused|urged|vowed|pledged|promised|"
    r"continued|lamented|asked|acknowledged|admitted|claimed|predicted|explained|dismissed|blamed|"
    r"criticized|praised|described|declared|announced|complained|wrote|tweeted)\b)"
)

_SOFT_CLAUSE_WORDS = ("but", "which", "while", "although", "though", "whereas")

_CLAUSE_START_RE = re.compile(r"(?:,[”\"']*\s+(?:but|and|while|yet|so)|;)\s+")

_INTRO_RE = re.compile(
    r"(?:During|After|Before|In|On|At|Meanwhile|However|Later|Earlier|Since|When|While|As|Asked|But|And|"
    r"[A-Z][a-z]+ing)\b[^,]{0,80},\s*",
    re.IGNORECASE,
)

_CLAUSE_ADVERB_RE = re.compile(r"(?:(?:then|but|and|so|still|yet|later|meanwhile|also)\s+)+", re.IGNORECASE)

_DOCUMENT_LEAD_RE = re.compile(r"\b(?:statement|letter|tweet|message|memo|email|video|ad|release|post)s?\s+$")

_AND_LEAD_RE = re.compile(r",?\s*\b(?:and|but)\s+(?:then\s+|also\s+)?$")

_PARTICIPLE_LEAD_RE = re.compile(r"(?:,[”\"']*|\band)\s+(?:also\s+|then\s+|instead\s+)?$")

_SENTENCE_GAP_RE = re.compile(r"[a-z]{3}[.!?]\s")

_AFTER_LEAD_RE = re.compile(r"[\s,—–-]*")

# Between a cue and the colon or comma opening a quote: "told reporters on Tuesday", "wrote in a statement".
_LEAD_TAIL_RE = re.compile(r"(?:\s+[^\s,:;.!?“”\"]+){0,8}\s*")

_LABEL_RE = re.compile(
    r"((?:[A-Z][\w.’'-]*[ \t]+){0,3}[A-Z][\w.’'-]*)(?:,[ \t]+[^,:;.!?“”\"\n]{2,60})?[ \t]*"
)

_NAMING_LEAD_RE = re.compile(
    r"\b(?:call(?:s|ed|ing)?|label(?:s|ed|led|ing|ling)?|dub(?:s|bed|bing)?|brand(?:s|ed|ing)?|"
    r"thank(?:s|ed|ing)?)(?:\s+[^\s,:;.!?“”\"]+){0,5}?\s*$"
)

_NO_TAIL_RE = re.compile(r"\s*")

_PAST_VERB_RE = re.compile(r"\b[a-z]{3,}ed\b")
_OWNER_TYPES: dict[str, SpeakerType] = {
    "his": "person",
    "her": "person",
    "their": "group",
    "its": "organization",
}
_SUBORDINATE_RE = re.compile(r"\b(?:that|because|if|unless|although|though|whether)\b")

# A `that` with nothing but a quotation after it joins the cue to a direct statement: no word of it.
_JOINING_THAT_RE = re.compile(r"that\s*$")

_MODIFIERS_RE = re.compile(r"[\w’'.-]*(?:,?\s+[\w’'.-]+)*,?\s*")

# "said on Monday that", "has said from the start that", "reported Sunday that": the content starts at "that"
_LATE_THAT_RE = re.compile(
    r"(?:on|in|at|during|after|before|last|this|to|from|for|since|over|throughout|repeatedly|publicly|"
    r"privately|previously|recently|earlier|(?i:" + trie_pattern(TIME_WORDS) + r"))\b[^,.“”\"]{0,60}?\bthat\b"
)

_TOLD_THAT_RE = re.compile(r"[^,.;:“”\"]{0,100}?\bthat\b")

_THAT_RE = re.compile(r"\s*(?:(?:instead|also|again|repeatedly|publicly|privately)\s+)?(?:that\b\s*)?")

_TOLD_OBJECT_RE = re.compile(
    r"\s+(?:(?:him|her|them|me|us|you|reporters|journalists|supporters|the\s+crowd|an?\s+(?:audience|crowd|interviewer)|"
    r"[A-Z][\w.&’'-]*(?:\s+[A-Z][\w.&’'-]*){0,4})(?:\s+(?:on|in|at|last|this|during)\s+[\w.’' -]{1,40}?)?)?"
    r"(?:\s*,)?\s*(?:that\b\s*)?"
)

_CLOSING_MARKS = "”\"'»’"

_HEADLINE_RE = re.compile(
    r"(?P<label>[A-Z][^:.!?“”\"\n]{1,60}?)"
    r"(?:(?P<cue>:)[ \t]+|[ \t]+(?P<verb>Says|Said|Tells|Told|Warns|Claims)[ \t]+)"
    r"(?P<content>[^\n]+)"
)

# What may stand between "asked" and the question: when, where, how, and by whom it was asked
_QUESTION_RE = re.compile(
    r"(?:[ \t]+(?:directly|again|repeatedly|later|once|recently|specifically|(?:on|last|this)[ \t]+\w+|"
    r"(?:at|in|during|on|after)[ \t]+[^,;:“”\"]{1,50}?))*"
    r"(?:[ \t]+by[ \t]+(?P<by>[^,;:“”\"]{2,60}?))?[ \t]+"
    r"(?P<question>(?:whether|if|about|to|what|why|how|which|who|when|where)\b)"
)

# The word before a passive "asked" ("When asked", "he was asked"); nothing before it will do too
_PASSIVE_LEAD = frozenset(["when", "was", "were", "been", "being", "is", "are", "and", "if", "once", "after"])

# The end of an attribution set inside its statement: "…, he said, …", "…, she said on Monday, …"
_ASIDE_END_RE = re.compile(r"(?:[ \t]+(?:on|last|this|in|at|to)\b[^,;:.“”\"]{1,40}?)?,[ \t]+(?=\w)")

_RESUMING_TAIL_RE = re.compile(
    r"(?:[ \t]+(?!(?:and|but|though|although|while|then)\b)(?![a-z]+ing\b)[\w’'.-]+){1,8},[ \t]*"
)

# "In a new Fox News poll released Monday, …" / "… in the latest CNN poll." (the poll as the source)
_POLL_NP = (
    r"(?:the|a|an|one|another|this|that|these|those|its|[A-Z][\w’'./-]*)[ \t]+(?:[\w’'./&-]+[ \t]+){0,7}?"
    r"(?:poll|polls|survey|surveys|average|polling)"
    r"(?:[ \t]+(?:released|conducted|taken|published)[^,.;:\n]{0,40})?"
)
_POLL_RE = re.compile(
    r"\b(?P<cue>In|in)[ \t]+(?:(?P<lead>" + _POLL_NP + r"),[ \t]+|(?P<trail>" + _POLL_NP + r")(?=[.,;]))"
)

_SUBORDINATE_OPENING_RE = re.compile(
    r"(?:While|Although|Though|Since|Because|If|When|Whenever|As|After|Before|Once|Until|Unless|Whereas)\b"
)

_RELATIVE_LEAD_RE = re.compile(r",[ \t]+(?:who|which)(?:[ \t]+[a-z]+){0,3}[ \t]+$")

_OBJECT_PRONOUN_RE = re.compile(r"[ \t]+(her|him|them)\b")
_RELATIVE_SUBJECT_RE = re.compile(r",[ \t]+(which|that)[ \t]+(?:[a-z]+[ \t]+)?$")


def _names(word: str) -> bool:
    lower = word.lower()
    return lower in ("he", "she", "they", "we", "i") or (is_cap(word) and lower not in NON_SPEAKER_CAPS)


def _looks_like_a_verb(word: str) -> bool:
    """ "Clinton tried", "Lee has", "Cruz is": a finite verb after a subject (not "Iraqi prime minister")."""
    lower = word.lower()
    return word.islower() and (
        lower in AUX or lower.endswith("ed") or lower in CUE_WORDS or lower in IRREGULAR_PASTS
    )


# "the claim that …" is a noun, "tries to confirm that …" an intent: neither reports a statement made
_DETERMINER_BEFORE_RE = re.compile(
    r"\b(?:the|a|an|this|that|his|her|its|their|our|my|your|to)[ \t]+$", re.IGNORECASE
)

_WORD_BEFORE_RE = re.compile(r"\b[a-z]+$")

_PURPOSE_RE = re.compile(r"\b(?:to|by)$")

_QUOTE_CHARS = '“”"«»'

# Words no subject ends with: a clause before the cue that ends in one is no subject ("so that they said")
_NOT_SUBJECT_ENDS = frozenset(
    ["and", "or", "but", "that", "than", "as", "if", "because", "so", "not", "to", "who", "whose", "which"]
)
_NOT_SUBJECT_STARTS = frozenset(
    [
        "while",
        "since",
        "though",
        "although",
        "if",
        "when",
        "because",
        "as",
        "what",
        "whether",
        "after",
        "before",
        "until",
        "unless",
        "once",
        "i",
        "it",
        "there",
        "here",
        "how",
        "why",
        "where",
        "for",
        "today",
    ]
)

_ORPHAN_GAP = " \t\n\u00a0.;:!?”\"'»’"


def _last_inside(text: str, end: int) -> str:
    """The last character before a quote's closing marks."""
    return text[max(0, end - 4) : end].rstrip(_CLOSING_MARKS)[-1:]


def _after_attribution(text: str, end: int, limit: int) -> tuple[Mention, Span, int] | None:
    """“…,” he said / said Smith / Smith, a spokesman, said — right after a quote, within `limit`."""
    if _last_inside(text, end) == "." or "\n" in text[end : end + 3]:
        return None
    lead = _AFTER_LEAD_RE.match(text, end, limit)
    pos = lead.end() if lead else end
    window = min(limit, pos + 160)
    # a noun that looks like a cue ("the report concluded") gives way to the next candidate
    for n, cue in enumerate(AFTER_CUE_RE.finditer(text, pos, window)):
        if n == 2:
            break
        between = text[pos : cue.start()]
        if any(c in between for c in '“”"') or "''" in between or _SENTENCE_GAP_RE.search(between):
            return None
        # “Boots on the ground” would do, said Al Ray: the quote runs on into its sentence
        if (
            _last_inside(text, end) not in ",!?"
            and between.rstrip().endswith(",")
            and (mention := np_after(text, cue.end(), window, titles=True)) is not None
        ):
            return mention, (cue.start(), cue.end()), mention.end
        found = _attribution_at(text, pos, cue, window)
        if found is not None:
            return found
    return None


def _attribution_at(text: str, pos: int, cue: re.Match[str], window: int) -> tuple[Mention, Span, int] | None:
    if cue.start() == pos:
        mention = np_after(text, cue.end(), window, titles=True)
        if mention is None:
            return None
        return mention, (cue.start(), cue.end()), mention.end
    if len(text[pos : cue.start()].split()) > 25:
        return None
    mention = np_after(text, pos, cue.start())
    if mention is None or (
        ALNUM_RE.search(text, mention.end, cue.start())
        and not text[mention.end : cue.start()].lstrip().startswith(",")
        and not all(w.lower() in AUX or w.endswith("ly") for w in text[mention.end : cue.start()].split())
    ):
        # "campaign manager Jane Doe told", "Rep. Ann Cole (D-Iowa), an aide, said": parse back from the cue.
        mention = speaker_before(text, pos, cue.start())
        if mention is None or not _MODIFIERS_RE.fullmatch(text, pos, mention.start):
            return None
    return mention, (cue.start(), cue.end()), cue.end()


def _clause_end(text: str, pos: int, sent_end: int) -> int:
    return pos + len(text[pos:sent_end].rstrip())


def _names_someone(mention: Mention) -> bool:
    """ "Pew", "The Charlotte Observer", "two analysts": a subject that names who found or showed something,
    unlike "the video"."""
    words = mention.text.split()
    if mention.type == "group":
        return True
    if words[0].lower() in DETERMINERS:
        return len(words) > 1 and is_cap(words[1])
    return is_cap(words[0])


def _occurrences(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + len(word))


def _speaker_label(label: str) -> bool:
    """Whether a headline's label names someone: "Sen. Ann Cole", "Clinton Aides" (not "Breaking", "WOW")."""
    words = label.split()
    return (
        len(words) <= 5
        and all(is_cap(w) or w.lower() in ("of", "for", "and", "to", "at", "on") for w in words)
        and not label.isupper()
        and words[0].lower() not in DETERMINERS
        and label.lower() not in HEADLINE_KICKERS
        and words[0].lower() not in _NOT_SUBJECT_STARTS
    )


def _content_kind(alnum: bytes, quoted: bytes, fragments: Sequence[Span]) -> Kind:
    """The kind, decided by the statement's own words (extract@v2 and README define it the same way):
    direct when every letter and digit of them is inside quotation marks, mixed when some are, indirect
    when none are. The speaker, the cue and a `that` joining them to the statement are not its words, so
    `saying that “Iraq stands with Iran”` is direct (see `_JOINING_THAT_RE`)."""
    chars = sum(alnum[s:e].count(1) for s, e in fragments)
    inside = sum(quoted[s:e].count(1) for s, e in fragments)
    if chars and inside == chars:
        return "direct"
    return "mixed" if inside else "indirect"


class StatementFinder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs = paragraph_spans(text)
        all_units = quote_units(text, self.paragraphs)
        self.units = all_units
        self.alnum = alnum_mask(text)
        quoted = bytearray(len(text))
        for unit in all_units:
            for s, e in unit.fragments:
                quoted[s:e] = self.alnum[s:e]
        self.quoted = bytes(quoted)
        in_quote = bytearray(len(text) + 1)
        for unit in all_units:
            for s, e in unit.fragments:
                in_quote[s:e] = b"\x01" * (e - s)
        self.in_quote = bytes(in_quote)
        self.long_units = [u for u in all_units if self._is_long(u)]
        self.unit_end_at = {u.start: u.end for u in self.long_units}
        self.sentences = sentence_spans(
            text, self.paragraphs, [f for u in self.long_units for f in u.fragments]
        )
        self.used = bytearray(len(text) + 1)
        self.orphans: list[QuoteUnit] = []
        # where the attribution after a direct quote ends ("“…,” he said"), and whom it names
        self.attributions: dict[int, Mention] = {}
        self.paragraph_starts = [s for s, _ in self.paragraphs]

    def _is_long(self, unit: QuoteUnit) -> bool:
        words = sum(count_words(self.text, s, e) for s, e in unit.fragments)
        single = self.text[unit.start] in "‘'"  # a quotation set in single marks ends in ’ or '
        inner = self.text[unit.start : unit.end].rstrip("”\"'’» " if single else "”\"'» ")
        return words >= 4 or (words >= 1 and inner[-1:] in ".!?,")

    def _sentence_of(self, pos: int) -> Span:
        lo, hi = 0, len(self.sentences) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            s, e = self.sentences[mid]
            if pos < s:
                hi = mid - 1
            elif pos >= e:
                lo = mid + 1
            else:
                return s, e
        return pos, pos

    def _paragraph_end(self, pos: int) -> int:
        n = self._paragraph_index(pos)
        return self.paragraphs[n][1] if n is not None else len(self.text)

    def _mark_used(self, fragments: Sequence[Span]) -> None:
        for s, e in fragments:
            self.used[s:e] = b"\x01" * (e - s)

    def run(self) -> list[Record]:
        records = self._direct()
        records += self._headlines()
        records += self._reported()
        records += self._noun_cues()
        records += self._poll_findings(records)
        self._attach_orphans(records)
        records += self._dialogue_turns(records)
        return records

    def line_of(self, record: Record) -> int | None:
        """The paragraph a record is a line of dialogue in (its quotation opens the paragraph), or None."""
        start = record.fragments[0][0]
        n = self._paragraph_index(start)
        if n is None or record.kind != "direct":
            return None
        s, e = self.paragraphs[n]
        return n if start == s and record.fragments[-1][1] <= e else None

    def _paragraph_index(self, pos: int) -> int | None:
        n = bisect_right(self.paragraph_starts, pos) - 1
        return n if n >= 0 and pos < self.paragraphs[n][1] else None

    def _dialogue_turns(self, records: Sequence[Record]) -> list[Record]:
        """Lines of dialogue no attribution names: “Hi,” Sarah replied. / “Did you sleep?” — the speakers
        take turns, so an unnamed line is spoken by whoever spoke two lines before it."""
        lines = {n: r for r in records if (n := self.line_of(r)) is not None}
        turns: list[Record] = []
        for unit in self.orphans:
            start, end = unit.start, unit.end
            n = self._paragraph_index(start)
            if (
                n is None
                or start != self.paragraphs[n][0]
                or self.used[start]
                or end < self.paragraphs[n][1] - 1
            ):
                continue
            before, two_back = lines.get(n - 1), lines.get(n - 2)
            if before is None or two_back is None or not _different_speakers(before, two_back):
                continue
            turn = Record(list(unit.fragments), "direct", None, None, turn_of=two_back)
            lines[n] = turn
            turns.append(turn)
        return turns

    def _attach_orphans(self, records: Sequence[Record]) -> None:
        """She says the plan works. “It saved us a year.”: an unattributed quote right after a reported
        statement in the same paragraph continues it."""
        by_end = {r.fragments[-1][1]: r for r in records if r.kind != "direct"}
        if not by_end:
            return
        for unit in self.orphans:
            gap_start = unit.start
            while gap_start > 0 and self.text[gap_start - 1] in _ORPHAN_GAP:
                gap_start -= 1
            record = by_end.pop(gap_start, None)
            if record is None or "\n" in self.text[gap_start : unit.start]:
                continue
            record.fragments.extend(unit.fragments)
            record.kind = _content_kind(self.alnum, self.quoted, record.fragments)
            by_end[unit.end] = record

    # direct quotes and their split continuations

    def _direct(self) -> list[Record]:
        text = self.text
        records: list[Record] = []
        units = self.long_units
        k = 0
        while k < len(units):
            unit = units[k]
            fragments = list(unit.fragments)
            para_end = self._paragraph_end(unit.end - 1)
            mention: Mention | None = None
            cue: Span | None = None
            after = _after_attribution(text, unit.end, para_end)
            k += 1
            # a short quote inside a sentence whose "he said" goes on with content is part of that statement
            if (
                after is not None
                and count_words(text, unit.start, unit.end) < 4
                and self._sentence_of(unit.start)[0] < unit.start
                and not ATTRIBUTION_END_RE.match(text, after[2])
            ):
                after = None
            kind: Kind = "direct"
            if after is not None:
                mention, cue, attr_end = after
                run_on = text[unit.end : min(mention.start, cue[0])].rstrip()
                if (
                    ALNUM_RE.search(run_on)
                    and run_on.endswith(",")
                    and _last_inside(text, unit.end) not in ",.!?"
                ):
                    fragments[-1] = (fragments[-1][0], unit.end + len(run_on) - 1)
                    kind = "mixed"
                lead_start = self._mid_sentence_lead(unit.start)
                if lead_start is not None:
                    # The town wants a mayor “who …,” she said: the statement starts with the sentence
                    fragments[0] = (lead_start, fragments[0][1])
                    kind = "mixed"
                while k < len(units) and units[k].start < para_end:
                    gap = text[attr_end : units[k].start]
                    if self._title_in_attribution(units, k, gap, para_end):
                        # “…,” he said on “Morning Talk.” “…”: the quoted show name is part of the attribution
                        attr_end = units[k].end
                        k += 1
                        continue
                    _, sent_end = self._sentence_of(attr_end)
                    # “…,” she told Hewitt, “…” / “…,” he said of the voters, “…”: the attribution's
                    # own tail before the comma that resumes the quote
                    tail = (
                        _RESUMING_TAIL_RE.fullmatch(gap) is not None
                        and text[units[k].start] not in "‘'"
                        and AFTER_CUE_RE.search(gap) is None
                    )
                    if (
                        ALNUM_RE.search(gap)
                        and not tail
                        and not (sent_end <= units[k].start and not text[sent_end : units[k].start].strip())
                    ):
                        break
                    nxt = units[k]
                    if _after_attribution(text, nxt.end, self._paragraph_end(nxt.end - 1)) is not None:
                        break
                    fragments += nxt.fragments
                    attr_end = nxt.end
                    k += 1
                if not self._in_dialogue(records, unit.start, mention):
                    k = self._absorb_quote_paragraphs(units, k, fragments, para_end)
            else:
                before = self._before_attribution(unit.start)
                if before is not None:
                    mention, cue = before
                    # "She said because turnout was low, “we lost.”": the clause is part of the statement
                    clause = _SUBORDINATE_RE.search(text, cue[1], unit.start)
                    if clause and not _JOINING_THAT_RE.match(text, clause.start(), unit.start):
                        fragments[0] = (clause.start(), fragments[0][1])
                        kind = "mixed"
            if mention is None and not self._stands_alone(unit):
                self.orphans.append(unit)
                continue
            used = [(fragments[0][0], fragments[-1][1])]
            if cue is not None and mention is not None:
                # the attribution itself ("he told CNN", "she said: ") is no statement of its own
                if cue[0] >= fragments[-1][1]:
                    used.append((fragments[-1][1], max(cue[1], mention.end)))
                    self.attributions[max(cue[1], mention.end)] = mention
                else:
                    used.append(cue)
            self._mark_used(used)
            records.append(Record(fragments, kind, mention, cue))
        return records

    def _in_dialogue(self, records: Sequence[Record], start: int, mention: Mention) -> bool:
        """Whether the quotation at `start` answers another speaker's line in the paragraph before."""
        if not records:
            return False
        previous = records[-1]
        n = self._paragraph_index(start)
        return (
            n is not None
            and start == self.paragraphs[n][0]
            and self.line_of(previous) == n - 1
            and previous.mention is not None
            and previous.mention.text.lower() != mention.text.lower()
        )

    def _title_in_attribution(self, units: Sequence[QuoteUnit], k: int, gap: str, para_end: int) -> bool:
        unit = units[k]
        return (
            k + 1 < len(units)
            and units[k + 1].start < para_end
            and not self.text[unit.end : units[k + 1].start].strip()
            and not any(c in gap for c in ".!?;,:")
            and count_words(self.text, unit.start, unit.end) <= 6
            and self.text[unit.start : unit.end].rstrip(_CLOSING_MARKS)[-1:] == "."
        )

    def _absorb_quote_paragraphs(
        self, units: Sequence[QuoteUnit], k: int, fragments: list[Span], para_end: int
    ) -> int:
        """Paragraphs right after an attributed quote that hold nothing but quotation continue it."""
        text = self.text
        while k < len(units) and units[k].start >= para_end and not text[para_end : units[k].start].strip():
            start = units[k].start
            end = self._paragraph_end(start)
            last = k
            while last + 1 < len(units) and units[last + 1].start < end:
                last += 1
            outside = [text[units[i].end : units[i + 1].start] for i in range(k, last)]
            outside.append(text[units[last].end : end])
            if any(ALNUM_RE.search(gap) for gap in outside) or (
                _after_attribution(text, units[last].end, end) is not None
            ):
                break
            for unit in units[k : last + 1]:
                fragments += unit.fragments
            k, para_end = last + 1, end
        return k

    def _mid_sentence_lead(self, start: int) -> int | None:
        """Where the sentence starts if a quote's sentence has words of its own before it (not "He said:")."""
        s_start, _ = self._sentence_of(start)
        lead = self.text[s_start:start]
        if not ALNUM_RE.search(lead) or lead.rstrip()[-1:] in ":—–-" or self.in_quote[s_start]:
            return None
        # "When it comes to taxes, “…,” she said": a lead-in phrase without a cue is part of the statement
        if lead.rstrip().endswith(",") and AFTER_CUE_RE.search(self.text, s_start, start):
            return None
        # "While it is early, and the bill is “doomed,” she said": the statement is the last clause
        clause = s_start
        for match in _CLAUSE_START_RE.finditer(self.text, s_start, start):
            if not self.in_quote[match.start()]:
                clause = match.end()
        return clause

    def _stands_alone(self, unit: QuoteUnit) -> bool:
        return False

    def _before_attribution(self, start: int) -> tuple[Mention, Span] | None:
        """He said: “…” / she told reporters, “…” / Smith declared “…!” — the cue ends the lead-in."""
        text = self.text
        s_start, _ = self._sentence_of(start)
        lead = text[max(s_start, start - 200) : start]
        if not lead.strip():
            prev = text[max(0, start - 300) : start].rstrip()
            if not prev.endswith(":"):
                return None
            s_start, _ = self._sentence_of(len(prev) - 1 + max(0, start - 300))
            lead_end = max(0, start - 300) + len(prev) - 1
        else:
            stripped = lead.rstrip()
            lead_end = start - (len(lead) - len(stripped))
            if stripped.endswith((":", ",")):
                lead_end -= 1
            elif not self._ends_statement(start):
                return None
        if text[lead_end : lead_end + 1] not in ":," and self._earlier_cue(s_start, lead_end):
            # "X said the staff kept calling “every hour.”": the quote belongs to X's mixed statement
            return None
        if (
            text[lead_end : lead_end + 1] not in ":,"
            and count_words(text, start, self.unit_end_at.get(start, start)) >= 4
            and (naming := _NAMING_LEAD_RE.search(text, max(s_start, lead_end - 80), lead_end))
        ):
            # She dubbed the budget “a fairy tale for adults.”: a long quoted label is the whole statement;
            # with a short one ("called it “a farce.”") the object belongs to the statement too
            verb = (naming.start(), naming.start() + len(naming.group().split()[0]))
            subject = self._clause_subject(s_start, naming.start())
            return (subject, verb) if subject is not None else None
        cue = INVERTED_CUE_RE.match(text, s_start, lead_end)
        for match in AFTER_CUE_RE.finditer(text, s_start, lead_end):
            cue = match
        if cue is None and text[lead_end : lead_end + 1] == ":":
            return self._label_attribution(s_start, lead_end)
        if cue is None or self.in_quote[cue.start()]:
            return None
        tail = _LEAD_TAIL_RE if text[lead_end : lead_end + 1] in ":," else _NO_TAIL_RE
        if not tail.fullmatch(text, cue.end(), lead_end):
            return None
        word = cue.group().lower()
        if word.startswith("according") or not text[s_start : cue.start()].strip():
            # "According to X, …" and the inverted "Said X, …"
            mention = np_after(text, cue.end(), lead_end)
        elif coordinated := _AND_LEAD_RE.search(text, max(s_start, cue.start() - 12), cue.start()):
            mention = self._clause_subject(s_start, coordinated.start())
        elif word.endswith("ing"):
            mention = self._clause_subject(s_start, cue.start())
        else:
            mention = speaker_before(text, s_start, cue.start())
        if mention is None:
            return None
        return mention, (cue.start(), cue.end())

    def _earlier_cue(self, s_start: int, end: int) -> bool:
        """Whether a reporting verb outside quotation marks comes before the last one in text[s_start:end]."""
        last = None
        for match in AFTER_CUE_RE.finditer(self.text, s_start, end):
            last = match.start()
        if last is None:
            return False
        return any(not self.in_quote[m.start()] for m in CUE_RE.finditer(self.text, s_start, last))

    def _label_attribution(self, s_start: int, colon: int) -> tuple[Mention, Span] | None:
        """Jo Earl, an economist: “…” — a bare name (with an apposition) before a colon is the speaker."""
        label = _LABEL_RE.fullmatch(self.text, s_start, colon)
        if label is None:
            # "The mayor turned to the council: “…”": a person as the subject of the lead-in speaks
            subject = self._clause_subject(s_start, colon)
            if subject is None or subject.type != "person" or self.in_quote[s_start]:
                return None
            return subject, (colon, colon + 1)
        mention = np_after(self.text, s_start, label.end(1))
        if mention is None or mention.type == "unknown" or not is_cap(mention.text):
            return None
        return mention, (colon, colon + 1)

    def _ends_statement(self, start: int) -> bool:
        """A quote right after its cue, without a comma, is the whole statement only if nothing follows it."""
        unit_end = self.unit_end_at.get(start, start)
        inner = self.text[start:unit_end].rstrip("”\"'» ")
        after = self.text[unit_end : unit_end + 3].lstrip(" ")
        return inner[-1:] in ".!?" or not after or after[0] in ".\n"

    # mixed and indirect statements

    def _headlines(self) -> list[Record]:
        """A headline gives its speaker first: "Lee: Budget Will Pass", "Mayor Says Bridge Is Safe". A
        headline is the article's first paragraph or a short paragraph in title case."""
        text = self.text
        records: list[Record] = []
        for n, (start, end) in enumerate(self.paragraphs):
            words = text[start:end].split(maxsplit=24)  # a 25th item (the rest) means more than 24
            if len(words) > 24 or (n and sum(is_cap(w) for w in words) * 3 < len(words) * 2):
                continue
            found = _HEADLINE_RE.match(text, start, end)
            if found is None or self.used[found.start("content")]:
                continue
            label = found.group("label")
            if not _speaker_label(label):
                continue
            content = strip_span(text, found.start("content"), end)
            if count_words(text, *content) < 3:
                continue
            mention = Mention(start, found.end("label"), label, classify(label.split()))
            record = self._make(content, mention, found, "cue" if found.group("cue") else "verb")
            if record is not None:
                self._mark_used([(start, content[1])])
                records.append(record)
        return records

    def _reported(self) -> list[Record]:
        records: list[Record] = []
        # one scan of the whole text; a cue is then placed in its sentence
        for cue in self._cues():
            if self.used[cue.start()] or self.in_quote[cue.start()]:
                continue
            s_start, s_end = self._sentence_of(cue.start())
            if cue.end() <= s_end:
                record = self._reported_at(cue, s_start, s_end, records)
                if record is not None:
                    self._mark_used([(record.fragments[0][0], record.fragments[-1][1])])
                    records.append(record)
        return records

    def _poll_findings(self, found_so_far: Sequence[Record]) -> list[Record]:
        """ "In a new Fox poll, Lee leads by 8 points", "Lee leads by 8 points in the latest poll": what a
        poll finds is a statement, the poll its source; "In a Fox poll, 60 percent said …" is the poll's
        too, not the 60 percent's."""
        text = self.text
        records: list[Record] = []
        # the reported statements whose speaker opens a clause: "…, 60 percent said …"
        by_speaker = {
            r.mention.start: r for r in found_so_far if r.mention is not None and r.kind != "direct"
        }
        searched = 0
        # the rare poll word first (str.find is ten times faster than a regex scan), then the "in" phrase
        # it ends, in a window before it
        words = sorted(i for word in ("poll", "survey", "average") for i in _occurrences(text, word))
        for start in words:
            if start < searched:
                continue
            found = _POLL_RE.search(text, max(searched, start - 120), start + 80)
            if found is None:
                continue
            searched = found.end()
            poll = found.group("lead") or found.group("trail")
            if self.in_quote[found.start()] or self.used[found.start()]:
                continue
            s_start, s_end = self._sentence_of(found.start())
            if found.group("lead") is not None:
                if found.start() > s_start and text[s_start : found.start()].strip():
                    continue
                start = found.end()
                content = strip_span(text, start, self._content_end(start, _clause_end(text, start, s_end)))
                at = found.start("lead")
            else:
                content = strip_span(text, self._last_clause(s_start, found.start()), found.start())
                at = found.start("trail")
            if count_words(text, *content) < 3:
                continue
            start, end = at, at + len(poll)
            mention = Mention(start, end, poll, "organization")
            answered = by_speaker.get(content[0]) if found.group("lead") is not None else None
            if answered is not None and answered.mention is not None and answered.mention.type == "group":
                answered.mention = mention
                continue
            record = self._make(content, mention, found, "cue")
            if record is not None:
                self._mark_used([(min(content[0], found.start()), max(content[1], found.end()))])
                records.append(record)
        return records

    def _cues(self) -> list[re.Match[str]]:
        """Every cue in the text, in order: the strong ones, and weak ones right before "that"."""
        text = self.text
        weak = []
        for at in _occurrences(text, " that"):
            word = _WORD_BEFORE_RE.search(text, max(0, at - 16), at)
            cue = WEAK_CUE_RE.match(text, word.start()) if word is not None else None
            if cue is not None and word is not None and cue.end() == word.end():
                weak.append(cue)
        strong = list(CUE_RE.finditer(text))
        return sorted(strong + weak, key=lambda cue: cue.start()) if weak else strong

    def _noun_cues(self) -> list[Record]:
        """ "Ana Ruiz's claim that the bridge is safe", "his warning that …": the owner of a reporting
        noun says what its that-clause holds."""
        text = self.text
        records: list[Record] = []
        for cue in NOUN_CUE_RE.finditer(text):
            if self.used[cue.start()] or self.in_quote[cue.start()]:
                continue
            s_start, s_end = self._sentence_of(cue.start())
            found = NOUN_OWNER_RE.search(text, max(s_start, cue.start() - 80), cue.start())
            if found is None:
                continue
            who = "owner" if found.group("owner") else "pronoun"
            owner = found.group(who)
            start = found.start(who)
            mention = Mention(
                start, found.end(who), owner, _OWNER_TYPES.get(owner.lower()) or classify(owner.split())
            )
            that = text.index("that", cue.end())
            content_end = self._content_end(that, _clause_end(text, that, s_end))
            if not text[s_start:start].strip():
                # "His claim that the dam could fail alarmed the council": as the sentence's subject, the
                # clause ends before the sentence's own verb
                verbs = list(_PAST_VERB_RE.finditer(text, that, content_end))
                if verbs and count_words(text, that, verbs[-1].start()) >= 4:
                    content_end = verbs[-1].start()
            content = strip_span(text, that, content_end)
            if count_words(text, *content) < 4:
                continue
            record = self._make(content, mention, cue)
            if record is not None:
                self._mark_used([(record.fragments[0][0], record.fragments[-1][1])])
                records.append(record)
        return records

    def _content_end(self, start: int, end: int) -> int:
        """Where a statement's content stops: the sentence end or a new clause outside quotation marks."""
        for match in _CLAUSE_END_RE.finditer(self.text, start, end):
            if not self.in_quote[match.end() - 1]:
                # "X said the plan failed, but that it was “a start”": the quotation is the point
                if match.group().lstrip(",”\"' ").startswith(_SOFT_CLAUSE_WORDS) and (
                    1 in self.quoted[match.end() : end] and 1 not in self.quoted[start : match.start()]
                ):
                    continue
                cut = match.start()
                while self.in_quote[cut] and cut < match.end():
                    cut += 1
                return cut
        return end

    def _last_clause(self, s_start: int, end: int) -> int:
        """Where the last clause before `end` starts (", but …", "; …" outside quotation marks)."""
        clause = s_start
        for match in _CLAUSE_START_RE.finditer(self.text, s_start, end):
            if not self.in_quote[match.end() - 1]:
                clause = match.end()
        return clause

    def _comma_outside_quotes(self, start: int, end: int) -> int:
        """The first comma in text[start:end] that no quotation holds, or `end`."""
        comma = self.text.find(",", start, end)
        while comma >= 0 and self.in_quote[comma]:
            comma = self.text.find(",", comma + 1, end)
        return comma if comma >= 0 else end

    def _clause_subject(self, s_start: int, cue_start: int) -> Mention | None:
        """The subject of the clause a participle (", saying …") hangs on."""
        text = self.text
        clause = self._last_clause(s_start, cue_start)
        if clause == s_start:
            # "On Monday, after a long silence, X said …": any number of introductory phrases
            while intro := _INTRO_RE.match(text, clause, cue_start):
                clause = intro.end()
        if lead := _CLAUSE_ADVERB_RE.match(text, clause, cue_start):
            clause = lead.end()
        return self._verb_subject(clause, cue_start) or np_after(text, clause, cue_start)

    def _verb_subject(self, clause: int, cue_start: int) -> Mention | None:
        """The first noun phrase in text[clause:cue_start] that a verb follows: "At an event in Ames,
        Iowa, Mrs. Clinton tried …", "Washington (AFP) – Democrat Ann Lee has taken …", "the prime
        minister met …"."""
        text = self.text
        toks = tokens(text, clause, cue_start)
        before_verbs = [
            (end, word) for n, (_, end, word) in enumerate(toks[:-1]) if _looks_like_a_verb(toks[n + 1][2])
        ]
        # a name or pronoun first ("Mrs. Clinton tried"), then any noun ("the prime minister met")
        for end, _ in sorted(before_verbs, key=lambda entry: not _names(entry[1])):
            if (subject := np_before(text, clause, end)) is not None:
                return subject
        return None

    def _quote_speaker_before(self, s_start: int, cue_start: int) -> Mention | None:
        """ "“…,” he said, adding that …": the speaker a quote's attribution just named."""
        for end in range(cue_start - 1, max(s_start, cue_start - 60) - 1, -1):
            if (mention := self.attributions.get(end)) is not None:
                between = self.text[end:cue_start]
                return None if any(c in between for c in _QUOTE_CHARS + ".!?;") else mention
        return None

    def _subject_phrase(self, s_start: int, cue_start: int) -> Mention | None:
        """The clause's whole subject when no name, pronoun or determiner phrase ends it: "47 percent
        said", "attorneys and legal experts said", "Large majorities of voters in six states said"."""
        text = self.text
        clause = self._last_clause(s_start, cue_start)
        while intro := _INTRO_RE.match(text, clause, cue_start):
            clause = intro.end()
        if lead := _CLAUSE_ADVERB_RE.match(text, clause, cue_start):
            clause = lead.end()
        end = before_time(text, clause, trim_end(text, clause, cue_start))
        toks = tokens(text, clause, end)
        while toks and (toks[-1][2].lower() in AUX or toks[-1][2].endswith("ly")):
            toks.pop()
        if not 0 < len(toks) <= 12 or any(c in text[clause:end] for c in _QUOTE_CHARS):
            return None
        words = [t[2] for t in toks]
        lower = [w.lower() for w in words]
        first, last = lower[0], lower[-1]
        if not (is_cap(words[0]) or first[0].isdigit() or first in DETERMINERS or first in QUANTIFIERS):
            return None
        if first in _NOT_SUBJECT_STARTS or last in _NOT_SUBJECT_ENDS or last in DETERMINERS:
            return None
        if PREPOSITION_RE.fullmatch(last) or any(w in AUX or w.endswith(("n’t", "n't")) for w in lower):
            return None
        for w, after in zip(words, lower[1:], strict=False):
            # "Carson shared a syllabus", "She proved adept at filibustering": a verb, not a subject
            if w.islower() and (
                w.endswith("ing")
                or (
                    (after in DETERMINERS or after[0].isdigit())
                    and not (PREPOSITION_RE.fullmatch(w) or w in DETERMINERS or w in _NOT_SUBJECT_ENDS)
                )
            ):
                return None
        if text[max(0, cue_start - 3) : cue_start].strip()[-1:].isdigit() or text.endswith("-", 0, cue_start):
            return None  # "384 pledged delegates", "so-called": the cue word is no verb here
        s, e = toks[0][0], toks[-1][1]
        return Mention(s, e, text[s:e], classify(words))

    def _reported_at(
        self, cue: re.Match[str], s_start: int, s_end: int, records: Sequence[Record]
    ) -> Record | None:
        text = self.text
        word = cue.group().lower()
        end = self._content_end(cue.end(), _clause_end(text, cue.end(), s_end))
        relative = _RELATIVE_LEAD_RE.search(text, max(s_start, cue.start() - 40), cue.start())
        subordinate = _SUBORDINATE_OPENING_RE.match(text, s_start) and "," not in text[s_start : cue.start()]
        if relative or subordinate:
            # "While critics dismissed him as an actor, he won twice", "Lee, who said he would go, left":
            # the statement ends with its clause
            end = self._comma_outside_quotes(cue.end(), end)
        if word.startswith("according"):
            mention = np_after(text, cue.end(), end) or source_phrase(text, cue.end(), end)
            if mention is None:
                return None
            if cue.start() - s_start < 3:
                comma = text.find(",", mention.end, end)
                if comma < 0:
                    return None
                content = strip_span(text, comma + 1, end)
            else:
                content = strip_span(text, s_start, cue.start())
            return self._make(content, mention, cue)
        if word == "asked" and (question := self._question(cue, s_start, end)) is not None:
            return question
        if word in WEAK_CUES and _DETERMINER_BEFORE_RE.search(
            text, max(s_start, cue.start() - 12), cue.start()
        ):
            return None
        if word in NAMING_CUES:
            return self._naming(cue, s_start, end)
        if word in QUOTING_ONLY_CUES and 1 not in self.quoted[cue.end() : end]:
            return None
        participle = word.split()[0].endswith("ing") and _PARTICIPLE_LEAD_RE.search(
            text, max(s_start, cue.start() - 12), cue.start()
        )
        if participle:
            previous = records[-1] if records and records[-1].fragments[0][0] >= s_start else None
            new_clause = previous is not None and any(
                not self.in_quote[m.end() - 1]
                for m in _CLAUSE_START_RE.finditer(text, previous.fragments[-1][1] - 3, cue.start())
            )
            if previous is not None and not new_clause:
                mention = previous.mention
            else:
                mention = self._quote_speaker_before(s_start, cue.start()) or self._clause_subject(
                    s_start, cue.start()
                )
        elif coordinated := _AND_LEAD_RE.search(text, max(s_start, cue.start() - 12), cue.start()):
            # "X toured the site and said …": the subject of the first verb speaks
            mention = self._clause_subject(s_start, coordinated.start())
        elif word.endswith("ing") and _DOCUMENT_LEAD_RE.search(
            text, max(s_start, cue.start() - 30), cue.start()
        ):
            # "X released a statement saying …"
            mention = self._clause_subject(s_start, cue.start())
        elif word in EVIDENCE_VERBS:
            mention = self._evidence_source(s_start, cue.start())
        else:
            mention = speaker_before(text, s_start, cue.start())
            before = text[s_start : cue.start()].rstrip()
            if mention is None and _PURPOSE_RE.search(before):
                # "Lee went out of his way to praise …", "he hinted at it by mentioning …": the subject
                mention = self._clause_subject(s_start, cue.start())
            if mention is None and not before.endswith(","):
                mention = self._subject_phrase(s_start, cue.start())
            if mention is None and before.endswith(",") and " ".join(word.split()) in SAY_CUES:
                # "Prices will fall, said Al Ray, an economist.": the clause before the comma is the content
                mention = np_after(text, cue.end(), end, titles=True)
                if (
                    mention is None
                    or count_words(text, s_start, cue.start()) < 3
                    or not ATTRIBUTION_END_RE.match(text, mention.end)
                ):
                    return None
                return self._make(strip_span(text, s_start, cue.start()), mention, cue)
        if mention is None:
            return None
        prefix = text[s_start : mention.start]
        rest = text[cue.end() : end].split()
        unquoted_rest = 1 not in self.quoted[cue.end() : end]
        if mention.start > s_start and prefix.rstrip().endswith(",") and unquoted_rest:
            content = strip_span(text, s_start, mention.start)
            # "…, X said on Monday": a short tail; "…, X said they would go": a statement of its own
            opener = rest[0].lower() if rest else ""
            clause_after = opener == "that" or opener in PRONOUNS or opener in DETERMINERS
            short_tail = len(rest) <= 6 and not clause_after
            intro = _INTRO_RE.fullmatch(text, s_start, mention.start)
            if short_tail and not intro and count_words(text, *content) >= 3:
                return self._make(content, mention, cue)
            if (aside := _ASIDE_END_RE.match(text, cue.end(), s_end)) is not None:
                # "This plan, he says, is different", "In the long run, economists say, costs fall": the
                # statement runs on both sides of the attribution
                after = self._content_end(aside.end(), _clause_end(text, aside.end(), s_end))
                return self._around(content, strip_span(text, aside.end(), after), mention, cue)
        obj = (
            _TOLD_OBJECT_RE.match(text, cue.end(), end)
            if word in ("told", "tells", "telling", "tell")
            else None
        )
        that = _THAT_RE.match(text, cue.end(), end)
        start = obj.end() if obj else that.end() if that else cue.end()
        if obj and not obj.group().rstrip().endswith("that"):
            # "told a radio host on Monday that …": the content starts at the first "that"
            if late_that := _TOLD_THAT_RE.match(text, cue.end(), end):
                start = late_that.end() - 4
        elif not obj and (late_that := _LATE_THAT_RE.match(text, start, end)):
            start = late_that.end() - 4
        lead = text[cue.end() : start].lower()
        if lead.strip().endswith("that"):
            # PolNeAR's annotators count "that" as the statement's; it is left out only before a direct one
            that_start = cue.end() + lead.rfind("that")
            if _content_kind(self.alnum, self.quoted, [strip_span(text, start, end)]) != "direct":
                start = that_start
        content = strip_span(text, start, end)
        # "declined to comment", "vowed to fight": an intent's infinitive may be short
        intended = word in INTENT_CUES and text.startswith("to ", content[0])
        if count_words(text, *content) < (2 if intended else 3) or (
            PREPOSITION_RE.match(text, content[0]) and not intended
        ):
            return None
        return self._make(content, mention, cue)

    def _naming(self, cue: re.Match[str], s_start: int, end: int) -> Record | None:
        """ "The union endorsed Hillary Clinton in May": the one named is the statement."""
        text = self.text
        if (pronoun := _OBJECT_PRONOUN_RE.match(text, cue.end(), end)) is not None:
            named: Span = (pronoun.start(1), pronoun.end(1))
        elif (name := np_after(text, cue.end(), end)) is not None and is_cap(name.text):
            named = (name.start, name.end)
        else:
            return None
        relative = _RELATIVE_SUBJECT_RE.search(text, max(s_start, cue.start() - 12), cue.start())
        mention = (
            Mention(relative.start(1), relative.end(1), relative.group(1), "organization")
            if relative is not None
            else speaker_before(text, s_start, cue.start())
        )
        return self._make(named, mention, cue) if mention is not None else None

    def _question(self, cue: re.Match[str], s_start: int, end: int) -> Record | None:
        """ "Asked by a reporter whether the plan works, …", "When asked if …": the question is the
        statement, its asker the one `by` names, or no one."""
        text = self.text
        before = text[s_start : cue.start()].split()
        if before and before[-1].lower() not in _PASSIVE_LEAD:
            return None
        found = _QUESTION_RE.match(text, cue.end(), end)
        if found is None:
            return None
        content = strip_span(
            text, found.start("question"), self._comma_outside_quotes(found.start("question"), end)
        )
        if count_words(text, *content) < 2:
            return None
        by = found.group("by")
        mention = np_after(text, found.start("by"), found.end("by"), titles=True) if by else None
        return self._make(content, mention, cue)

    def _evidence_source(self, s_start: int, cue_start: int) -> Mention | None:
        """The poll or study a "shows"/"found" hangs on: the last evidence noun shortly before the verb, or
        else a subject that names who found it ("Pew found …", "two analysts found …"; not "the video")."""
        noun = None
        for match in EVIDENCE_NOUN_RE.finditer(self.text, max(s_start, cue_start - 80), cue_start):
            noun = match
        if noun is None or any(c in self.text[noun.end() : cue_start] for c in '.;:“”"'):
            subject = speaker_before(self.text, s_start, cue_start)
            return subject if subject is not None and _names_someone(subject) else None
        mention = np_before(self.text, s_start, noun.end())
        if mention is None or mention.end != noun.end():
            return Mention(noun.start(), noun.end(), noun.group(), "organization")
        return mention

    def _around(self, before: Span, after: Span, mention: Mention, cue: re.Match[str]) -> Record | None:
        fragments = [before, after]
        if any(e <= s or any(self.used[s:e]) for s, e in fragments):
            return None
        if count_words(self.text, *before) + count_words(self.text, *after) < 3:
            return None
        kind = _content_kind(self.alnum, self.quoted, fragments)
        return Record(fragments, kind, mention, (cue.start(), cue.end()))

    def _make(
        self, content: Span, mention: Mention | None, cue: re.Match[str], group: str | int = 0
    ) -> Record | None:
        s, e = content
        if e <= s or any(self.used[s:e]):
            return None
        kind = _content_kind(self.alnum, self.quoted, [content])
        return Record([content], kind, mention, (cue.start(group), cue.end(group)))
