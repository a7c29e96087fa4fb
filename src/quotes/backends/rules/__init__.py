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
from quotes.backends.rules.roles import apposition_role, mention_role
from quotes.backends.rules.speakers import Mention
from quotes.backends.rules.statements import Record, StatementFinder
from quotes.chunking import Chunk
from quotes.schema import Quote, Speaker

__all__ = ["RULES_VERSION", "RulesBackend", "extract_quotes"]

RULES_VERSION = "6"


def _speaker(text: str, record: Record, entities: Entities, resolved: dict[int, str]) -> Speaker:
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
            mention_role(mention.text.split()) or apposition_role(text, mention.end) or entities.role_of(name)
        )
    return Speaker(
        name=name, mention=mention.text, start=mention.start, end=mention.end, type=mention.type, role=role
    )


def extract_quotes(text: str) -> list[Quote]:
    """Every direct, mixed and indirect statement in `text`, with offsets into it."""
    extractor = StatementFinder(text)
    records = sorted(extractor.run(), key=lambda r: r.fragments[0][0])
    entities = Entities(text)
    antecedents = {
        pos: entities.resolve(Mention(0, 0, name, "person"), pos) or name
        for pos, name in who_antecedents(text, (r.mention for r in records)).items()
    }
    quotes: list[Quote] = []
    for n, record in enumerate(records, start=1):
        start, end = record.fragments[0][0], record.fragments[-1][1]
        cue_start, cue_end = record.cue if record.cue else (None, None)
        speaker = _speaker(text, record, entities, antecedents)
        quotes.append(
            Quote(
                id=f"q{n}",
                text=text[start:end],
                start=start,
                end=end,
                kind=record.kind,
                speaker=speaker,
                cue=text[cue_start:cue_end] if cue_start is not None else None,
                cue_start=cue_start,
                cue_end=cue_end,
                about=entities.about(record.fragments, speaker.name, speaker.role),
                spans=list(record.fragments),
            )
        )
    return quotes


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
    """The Backend protocol over `extract_quotes`: whole article in one chunk, no I/O, free."""

    @property
    def provenance(self) -> Provenance:
        return Provenance(backend="rules", model=f"quotes-rules/{RULES_VERSION}")

    @property
    def chunk_size(self) -> int | None:
        return None

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer:
        quotes = list(_iter_offset(extract_quotes(chunk.text), chunk.start))
        return ChunkAnswer(quotes=[q.model_copy(update={"chunk": chunk.index}) for q in quotes])

    async def aclose(self) -> None:
        return None
