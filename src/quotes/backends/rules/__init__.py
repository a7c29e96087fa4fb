"""The offline extractor: quotation marks, cue verbs and speaker resolution with stdlib regexes.

It reads the whole article at once, so it can resolve "he", "the Iraqi prime minister" or a bare surname
to the person the article introduced earlier. One module per concern: `scanning` (quotation marks,
paragraphs, sentences), `lexicon` (the language data in `lang/*.toml`), `speakers` (the phrase that names
a speaker), `roles`, `coreference` (names, pronouns, `about`) and `statements` (direct, mixed and
indirect statements and their attributions).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from quotes.backends import ChunkAnswer, Provenance
from quotes.backends.rules.coreference import Entities, who_antecedents
from quotes.backends.rules.languages import detect_language, direct_quotes, languages_with_rules
from quotes.backends.rules.roles import apposition_role, mention_role, role_before
from quotes.backends.rules.scanning import Span, without_markup
from quotes.backends.rules.speakers import Mention
from quotes.backends.rules.statements import Record, StatementFinder
from quotes.chunking import Chunk
from quotes.schema import Entity, Kind, Quote, Speaker

__all__ = [
    "RULES_VERSION",
    "RulesBackend",
    "detect_language",
    "extract_quotes",
    "language_note",
    "languages_with_rules",
    "rules_language_line",
]

RULES_VERSION = "7"


def _speaker(text: str, record: Record, entities: Entities, resolved: dict[int, str]) -> Speaker:
    if record.turn_of is not None:
        # a line of dialogue no attribution names: the speaker of the turn, with no words here for them
        taking = _speaker(text, record.turn_of, entities, resolved)
        return Speaker(name=taking.name, type=taking.type, role=taking.role)
    mention = record.mention
    if mention is None:
        return Speaker()
    name = entities.resolve(mention, mention.start)
    if mention.text.lower() == "who":
        name = resolved.get(mention.start, name)
    role = None
    if mention.type == "person":
        # the mention's own titles or description, an apposition after it, or what the article calls
        # the same person elsewhere ("Mayor Lisa Park" … "Park added")
        role = (
            mention_role(mention.text.split())
            or apposition_role(text, mention.end)
            or role_before(text, mention.start)
            or entities.role_of(name)
        )
    return Speaker(
        name=name, mention=mention.text, start=mention.start, end=mention.end, type=mention.type, role=role
    )


def _taking_turns(speaker: Speaker, before: str | None, two_back: str | None) -> Speaker:
    """“Hi,” Sarah replied. / “Why not?” he asked: in an exchange between two people, "he" answering
    Sarah is the other one, not Sarah, whoever the article named last."""
    pronoun = (speaker.mention or "").lower() in ("he", "she")
    if pronoun and before and two_back and before != two_back and speaker.name == before:
        return speaker.model_copy(update={"name": two_back})
    return speaker


def extract_quotes(text: str, lang: str | None = None) -> list[Quote]:
    """Every direct, mixed and indirect statement in `text`, with offsets into it.

    `lang` is the text's ISO 639-1 code; by default it is detected. English gets every kind of
    statement; the other languages with rules (`languages_with_rules()`) their direct quotations; a
    language without rules nothing (`language_note` says so)."""
    scan = without_markup(text)  # same length: offsets into it are offsets into `text`
    code = lang or detect_language(scan)
    if code != "en":
        return _direct_quotes(text, scan, code) if code in languages_with_rules() else []
    extractor = StatementFinder(scan)
    records = sorted(extractor.run(), key=lambda r: r.fragments[0][0])
    entities = Entities(scan)
    antecedents = {
        pos: entities.resolve(Mention(0, 0, name, "person"), pos) or name
        for pos, name in who_antecedents(scan, (r.mention for r in records)).items()
    }
    quotes: list[Quote] = []
    lines: dict[int, str | None] = {}  # paragraph → who speaks the line of dialogue there
    for n, record in enumerate(records, start=1):
        span = record.fragments[0][0], record.fragments[-1][1]
        speaker = _speaker(scan, record, entities, antecedents)
        if speaker.start is not None and speaker.end is not None and scan is not text:
            speaker.mention = text[speaker.start : speaker.end]  # as written, markup and all
        if (line := extractor.line_of(record)) is not None:
            speaker = _taking_turns(speaker, lines.get(line - 1), lines.get(line - 2))
            lines[line] = speaker.name
        about = entities.about(record.fragments, speaker.name, speaker.role)
        quotes.append(_quote(text, n, span, record.kind, speaker, record.cue, about, record.fragments))
    return quotes


def language_note(text: str, lang: str | None = None) -> str | None:
    """One line saying that the language of `text` (or `lang`) has no rules, None when it has."""
    code = lang or detect_language(text)
    if code in languages_with_rules():
        return None
    return (
        f"language '{code}' has no rules: the rules backend finds no statements in it "
        f"(it has rules for {', '.join(languages_with_rules())})"
    )


def rules_language_line(lang: str | None) -> str:
    """What the backend line adds for a fixed language: its name, or that it has no rules."""
    if lang is None:
        return ""
    if lang not in languages_with_rules():
        return f"; {language_note('', lang)}"
    return f"; language {lang}"


def _direct_quotes(text: str, scan: str, code: str) -> list[Quote]:
    quotes: list[Quote] = []
    for n, found in enumerate(direct_quotes(scan, code), start=1):
        kind = "person" if found.name or found.speaker else "unknown"
        speaker = Speaker(name=found.name, type=kind, role=found.role)
        if found.speaker is not None:
            s, e = found.speaker
            speaker = speaker.model_copy(update={"mention": text[s:e], "start": s, "end": e})
        quotes.append(_quote(text, n, found.quote, "direct", speaker, found.cue))
    return quotes


def _quote(
    text: str,
    n: int,
    span: Span,
    kind: Kind,
    speaker: Speaker,
    cue: Span | None,
    about: list[Entity] | None = None,
    fragments: Sequence[Span] = (),
) -> Quote:
    start, end = span
    return Quote(
        id=f"q{n}",
        text=text[start:end],
        start=start,
        end=end,
        kind=kind,
        speaker=speaker,
        cue=text[cue[0] : cue[1]] if cue else None,
        cue_start=cue[0] if cue else None,
        cue_end=cue[1] if cue else None,
        about=about or [],
        spans=list(fragments),
    )


def _iter_offset(quotes: Sequence[Quote], offset: int) -> Iterator[Quote]:
    for quote in quotes:
        if not offset:
            yield quote
            continue
        speaker = quote.speaker.model_copy(
            update={
                "start": None if quote.speaker.start is None else quote.speaker.start + offset,
                "end": None if quote.speaker.end is None else quote.speaker.end + offset,
            }
        )
        yield quote.model_copy(
            update={
                "start": quote.start + offset,
                "end": quote.end + offset,
                "cue_start": None if quote.cue_start is None else quote.cue_start + offset,
                "cue_end": None if quote.cue_end is None else quote.cue_end + offset,
                "spans": [(s + offset, e + offset) for s, e in quote.spans],
                "speaker": speaker,
            }
        )


class RulesBackend:
    """The Backend protocol over `extract_quotes`: whole article in one chunk, no I/O, free.

    `lang` fixes the language of every article (ISO 639-1, as `quotes extract --lang`); by default each
    article's is detected. An article in a language without rules gets one warning saying so."""

    def __init__(self, lang: str | None = None) -> None:
        self.lang = lang

    @property
    def provenance(self) -> Provenance:
        return Provenance(backend="rules", model=f"quotes-rules/{RULES_VERSION}")

    @property
    def chunk_size(self) -> int | None:
        return None

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer:
        code = self.lang or detect_language(chunk.text)
        quotes = list(_iter_offset(extract_quotes(chunk.text, code), chunk.start))
        note = language_note(chunk.text, code)
        return ChunkAnswer(
            quotes=[q.model_copy(update={"chunk": chunk.index}) for q in quotes],
            warnings=[note] if note else [],
        )

    async def aclose(self) -> None:
        return None
