"""The quote archive: Extractions from many runs in one SQLite file, searched with FTS5, and claims
checked against all of it.

One file a user can copy (stdlib `sqlite3`, write-ahead log while open). Inside:

* `texts`: every article text once, by its sha256 (zlib-compressed, with its length, so the sqlite3
  shell's `sqlar_uncompress(text, size)` reads it);
* `extractions`: one row per Extraction added, its record as compressed JSON (without the text), with
  its article id, provenance (backend, model, prompt, prompt hash), source, date and url as columns.
  An Extraction whose content (quotes, errors, provenance, metadata; not its usage) is already in the
  archive is skipped, so adding the same run twice adds nothing; one that differs (a new prompt version,
  another model, a rerun that fixed a failed chunk) is kept beside the others, and the newest added for
  an article id is the `current` one that searching and verifying read;
* `statements` and `statements_fts`: every statement, full-text indexed by its words, its speaker (name,
  mention and role), cue, who it is about, and its article's id and source;
* `texts_fts`: the article texts, indexed, so that words no statement covers are found too.

Verifying a claim against the archive judges only a few candidate articles, chosen through the
full-text indexes by the claim's rarest words (`Archive._candidates`): the earliest whose statement by
the claimed speaker holds them and the earliest of all; else the closest statement, and the earliest
text that holds them outside any statement. Each is judged by `quotes.verify.averify`, the one judge of
a claim against an article, with its stored Extraction; the archive's verdict is the strongest of
theirs, with every judged article's evidence listed earliest first.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from quotes.articles import InputProblem
from quotes.backends.rules import RulesBackend
from quotes.pipeline import Extractor
from quotes.runlog import RecordFileError, scan_records
from quotes.schema import Article, Claim, Evidence, Extraction, Quote, SearchHit, Verdict, iso_date
from quotes.verify import Judge, averify

FORMAT = "quotes-archive"
FORMAT_VERSION = "1"
# Extractions written per transaction while adding: an interrupted add keeps every batch before.
BATCH = 500
# Candidate articles for a claim (see Archive._candidates): up to `candidates` whose statements hold its
# RAREST words, earliest first; else the CLOSEST whose statements hold fewer of them, and the earliest
# whose text holds them. Rarity is counted up to COUNT_CAP statements.
CANDIDATES = 2
CLOSEST = 1
RAREST = 4
COUNT_CAP = 5000
# How many more words than the claim has may stand between its rarest words in a statement.
NEAR_SLACK = 3
# A search ranks this many times `limit` statements before filtering them by date and version.
SEARCH_FETCH = 4
# bm25 weights of statements_fts's columns: statement, speaker, cue, about, article.
_BM25 = "bm25(statements_fts, 1.0, 1.0, 0.5, 1.0, 0.5)"
# How much a per-article verdict says about the claim, for choosing the archive's verdict.
_STANDING = {
    "supported": 5,
    "misattributed": 4,
    "altered": 3,
    "unattributed": 2,
    "could_not_check": 1,
    "not_found": 0,
}

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('format', '{FORMAT}'), ('version', '{FORMAT_VERSION}');
CREATE TABLE texts (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
                    text BLOB NOT NULL);
CREATE TABLE extractions (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL,
    text_id INTEGER NOT NULL REFERENCES texts (id),
    backend TEXT NOT NULL, model TEXT, prompt TEXT, prompt_sha256 TEXT,
    source TEXT, date TEXT, url TEXT,
    statements INTEGER NOT NULL, errors INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL UNIQUE,
    current INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    size INTEGER NOT NULL, record BLOB NOT NULL
);
CREATE INDEX extractions_current ON extractions (article_id) WHERE current;
CREATE INDEX extractions_text ON extractions (text_id) WHERE current;
CREATE INDEX extractions_date ON extractions (date) WHERE current;
CREATE TABLE statements (id INTEGER PRIMARY KEY, extraction INTEGER NOT NULL, ordinal INTEGER NOT NULL);
CREATE VIRTUAL TABLE statements_fts USING fts5 (
    statement, speaker, cue, about, article, content='', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE texts_fts USING fts5 (text, content='', tokenize='unicode61 remove_diacritics 2');
"""

_TOKEN = re.compile(r"[^\W_]+")
_QUERY_PART = re.compile(r'"([^"]*)"|(\S+)')


class ArchiveError(Exception):
    """The archive cannot be used: no such file, not a quotes archive, damaged, or locked."""


@dataclass
class AddReport:
    """What adding found: Extractions `added`, `skipped` as already in the archive, and `problems`
    (records not added, each naming its file and line, or its article)."""

    added: int = 0
    skipped: int = 0
    problems: list[InputProblem] = field(default_factory=list)


@dataclass
class ProvenanceCount:
    """How many extractions in the archive one backend, model and prompt made."""

    backend: str
    model: str | None
    prompt: str | None
    extractions: int


@dataclass
class Stats:
    """What an archive holds; `articles` and `statements` count current extractions only."""

    path: Path
    bytes: int
    articles: int
    statements: int
    extractions: int
    texts: int
    first_date: str | None
    last_date: str | None
    provenances: list[ProvenanceCount]


@dataclass(frozen=True)
class _Stored:
    """One extraction read back, with the article it was made from."""

    row: int
    extraction: Extraction
    article: Article

    @property
    def order(self) -> tuple[bool, str, int]:
        """Earliest first: dated articles by date, then undated ones, each in the order added."""
        return self.article.date is None, self.article.date or "", self.row


class Archive:
    """A quote archive in one SQLite file: add runs, search statements, check claims against all of it.

    >>> with quotes.Archive("quotes.db") as archive:  # doctest: +SKIP
    ...     archive.add_run("run.jsonl")
    ...     hits = archive.search("harvest", speaker="Ada Kern", since="2024-01-01")
    ...     [verdict] = archive.verify([quotes.Claim(speaker="Ada Kern", quote="the harvest is late")])

    The file is created when missing (unless `create=False`); `timeout` is how many seconds to wait while
    another process writes to it. One Archive may be shared by threads.
    """

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 10.0) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise ArchiveError(f"{self.path}: no such archive (make one with `quotes archive add RUN.jsonl`)")
        self._lock = threading.RLock()
        self._extractor: Extractor | None = None
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: cannot open: {exc}") from None
        try:
            self._open()
        except sqlite3.Error as exc:
            self._db.close()
            raise ArchiveError(f"{self.path}: not a usable quotes archive ({exc})") from None
        except ArchiveError:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
            return
        meta = dict(db.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
        if meta.get("format") != FORMAT:
            raise ArchiveError(f"{self.path}: an SQLite database, but not a quotes archive")
        if meta.get("version") != FORMAT_VERSION:
            raise ArchiveError(
                f"{self.path}: archive format version {meta.get('version')}; this quotes reads "
                f"version {FORMAT_VERSION}"
            )
        db.execute("PRAGMA journal_mode = WAL")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- adding ------------------------------------------------------------------------------------

    def add(self, extractions: Iterable[Extraction]) -> AddReport:
        """Add Extractions (each with its `text`); those already in the archive are skipped."""
        return self._add((extraction, extraction.id, None) for extraction in extractions)

    def add_run(self, path: str | Path) -> AddReport:
        """Add a JSONL run of `quotes extract`. A line that is not an Extraction with its text is a
        problem naming the file and line; the other lines are still added. OSError if unreadable."""
        return self._add((record, str(path), line) for line, record in scan_records(path, Extraction))

    def _add(self, items: Iterable[tuple[Extraction | RecordFileError, str, int | None]]) -> AddReport:
        report = AddReport()
        with self._lock:
            batch = 0
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for item, source, line in items:
                    if isinstance(item, RecordFileError):
                        message = str(item).removeprefix(f"{source}:{line}: ")
                        report.problems.append(InputProblem(source, f"{message}; not added", line))
                        continue
                    problem = self._insert(item)
                    if isinstance(problem, str):
                        report.problems.append(InputProblem(source, f"{problem}; not added", line))
                    elif problem:
                        report.added += 1
                        batch += 1
                    else:
                        report.skipped += 1
                    if batch >= BATCH:
                        self._db.execute("COMMIT")
                        self._db.execute("BEGIN IMMEDIATE")
                        batch = 0
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise ArchiveError(f"{self.path}: {exc} (what was added before is kept)") from None
                raise
            self._db.execute("COMMIT")
        return report

    def _insert(self, extraction: Extraction) -> bool | str:
        """Add one Extraction: True when added, False when already here, or what is wrong with it."""
        text = extraction.text
        if text is None:
            return f"article {extraction.id!r} has no text (`quotes extract` JSONL keeps it)"
        text_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if text_sha256 != extraction.text_sha256:
            return f"article {extraction.id!r}: its text does not match its text_sha256"
        # Usage is left out of the content: a rerun answered from the response store is the same content.
        content = extraction.model_dump_json(exclude={"text", "usage"})
        content_sha256 = hashlib.sha256(content.encode("utf-8")).hexdigest()
        db = self._db
        if db.execute("SELECT 1 FROM extractions WHERE content_sha256 = ?", (content_sha256,)).fetchone():
            return False
        text_id = self._text_id(text, text_sha256)
        db.execute("UPDATE extractions SET current = 0 WHERE article_id = ? AND current", (extraction.id,))
        body = extraction.model_dump_json(exclude={"text"}).encode("utf-8")
        cursor = db.execute(
            "INSERT INTO extractions (article_id, text_id, backend, model, prompt, prompt_sha256, source, "
            "date, url, statements, errors, content_sha256, current, added_at, size, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            (
                extraction.id,
                text_id,
                extraction.backend,
                extraction.model,
                extraction.prompt,
                extraction.prompt_sha256,
                extraction.source,
                extraction.date,
                extraction.url,
                len(extraction.quotes),
                len(extraction.errors),
                content_sha256,
                datetime.now(UTC).isoformat(timespec="seconds"),
                len(body),
                zlib.compress(body),
            ),
        )
        row = cursor.lastrowid
        (last,) = db.execute("SELECT coalesce(max(id), 0) FROM statements").fetchone()
        ids = range(last + 1, last + 1 + len(extraction.quotes))
        db.executemany(
            "INSERT INTO statements (id, extraction, ordinal) VALUES (?, ?, ?)",
            [(sid, row, ordinal) for ordinal, sid in enumerate(ids)],
        )
        article = f"{extraction.id} {extraction.source or ''}"
        db.executemany(
            "INSERT INTO statements_fts (rowid, statement, speaker, cue, about, article) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (sid, q.text, _speaker_words(q), q.cue or "", " ; ".join(e.name for e in q.about), article)
                for sid, q in zip(ids, extraction.quotes, strict=True)
            ],
        )
        return True

    def _text_id(self, text: str, sha256: str) -> int:
        found = self._db.execute("SELECT id FROM texts WHERE sha256 = ?", (sha256,)).fetchone()
        if found:
            return int(found[0])
        data = text.encode("utf-8")
        cursor = self._db.execute(
            "INSERT INTO texts (sha256, size, text) VALUES (?, ?, ?)",
            (sha256, len(data), zlib.compress(data)),
        )
        self._db.execute("INSERT INTO texts_fts (rowid, text) VALUES (?, ?)", (cursor.lastrowid, text))
        return int(cursor.lastrowid or 0)

    # --- reading -----------------------------------------------------------------------------------

    def extraction(self, article_id: str) -> Extraction | None:
        """The current Extraction of an article (the newest added), with its text; None if not here."""
        with self._lock:
            found = self._db.execute(
                "SELECT id FROM extractions WHERE article_id = ? AND current", (article_id,)
            ).fetchone()
            return self._load([found[0]])[found[0]].extraction if found else None

    def extractions(self, article_id: str) -> list[Extraction]:
        """Every Extraction of an article in the archive, oldest added first (the last is current)."""
        with self._lock:
            query = "SELECT id FROM extractions WHERE article_id = ? ORDER BY id"
            rows = [row for (row,) in self._db.execute(query, (article_id,))]
            stored = self._load(rows)
            return [stored[r].extraction for r in rows]

    def _load(self, rows: Iterable[int]) -> dict[int, _Stored]:
        wanted = sorted(set(rows))
        found: dict[int, _Stored] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            for row, record, text in self._db.execute(
                "SELECT e.id, e.record, t.text FROM extractions e JOIN texts t ON t.id = e.text_id "
                f"WHERE e.id IN ({marks})",
                part,
            ):
                body = zlib.decompress(text).decode("utf-8")
                extraction = Extraction.model_validate_json(zlib.decompress(record))
                extraction.text = body
                article = Article(
                    id=extraction.id,
                    text=body,
                    source=extraction.source,
                    date=extraction.date,
                    url=extraction.url,
                )
                found[row] = _Stored(row, extraction, article)
        return found

    def stats(self) -> Stats:
        """Counts, the date range and the provenances of the extractions held."""
        with self._lock:
            db = self._db
            articles, statements, first, last = db.execute(
                "SELECT count(*), coalesce(sum(statements), 0), min(date), max(date) FROM extractions "
                "WHERE current"
            ).fetchone()
            (extractions,) = db.execute("SELECT count(*) FROM extractions").fetchone()
            (texts,) = db.execute("SELECT count(*) FROM texts").fetchone()
            provenances = [
                ProvenanceCount(backend, model, prompt, count)
                for backend, model, prompt, count in db.execute(
                    "SELECT backend, model, prompt, count(*) FROM extractions "
                    "GROUP BY backend, model, prompt, prompt_sha256 ORDER BY min(id)"
                )
            ]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return Stats(self.path, size, articles, statements, extractions, texts, first, last, provenances)

    # --- searching ---------------------------------------------------------------------------------

    def search(
        self,
        words: str = "",
        *,
        speaker: str | None = None,
        about: str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Statements that hold all the `words` (in the statement, its speaker, cue, about or article),
        best first; `"a phrase"` in quotes matches the words in a row, `word*` any word it begins.

        `speaker` and `about` keep statements whose speaker (name, mention or role) or `about` hold all
        of those words; `since` and `until` keep articles dated within those days (inclusive; undated
        articles are left out). With no words, hits are the newest statements that pass the filters.
        ValueError for a date that is not ISO 8601.
        """
        parts = [f"({query})"] if (query := _match(words)) else []
        for column, value in (("speaker", speaker), ("about", about)):
            if value and (wanted := _match(value)):
                parts.append(f"{column} : ({wanted})")
        where, params = ["e.current"], []
        if since is not None:
            where.append("e.date >= ?")
            params.append(_day(since))
        if until is not None:
            where.append("substr(e.date, 1, 10) <= ?")
            params.append(_day(until))
        filters = " AND ".join(where)
        queries: list[tuple[str, list[object]]] = []
        if parts:
            # The best statements first, ranked inside FTS5 before any join; when the filters leave
            # fewer than `limit` of them, every match is joined and ranked.
            for inner in (f"LIMIT {SEARCH_FETCH * limit}", ""):
                sql = (
                    f"SELECT s.id, s.ordinal, e.id, hit.score FROM (SELECT rowid, -{_BM25} AS score "
                    f"FROM statements_fts WHERE statements_fts MATCH ? ORDER BY score DESC {inner}) AS hit "
                    "JOIN statements s ON s.id = hit.rowid JOIN extractions e ON e.id = s.extraction "
                    f"WHERE {filters} ORDER BY hit.score DESC, e.date DESC LIMIT ?"
                )
                queries.append((sql, [" AND ".join(parts), *params, limit]))
        else:
            sql = (
                "SELECT s.id, s.ordinal, e.id, 0.0 FROM extractions e "
                f"JOIN statements s ON s.extraction = e.id WHERE {filters} "
                "ORDER BY e.date DESC, s.id DESC LIMIT ?"
            )
            queries.append((sql, [*params, limit]))
        with self._lock:
            for sql, values in queries:
                try:
                    rows = self._db.execute(sql, values).fetchall()
                except sqlite3.OperationalError as exc:
                    raise ValueError(f"cannot search for {words!r}: {exc}") from None
                if len(rows) == limit:
                    break
            stored = self._load(row for _, _, row, _ in rows)
        hits = []
        for rank, (_, ordinal, row, score) in enumerate(rows, start=1):
            article = stored[row].article
            hits.append(
                SearchHit(
                    rank=rank,
                    score=round(score, 4),
                    article_id=article.id,
                    source=article.source,
                    date=article.date,
                    url=article.url,
                    quote=stored[row].extraction.quotes[ordinal],
                )
            )
        return hits

    # --- verifying ---------------------------------------------------------------------------------

    async def averify(
        self, claims: Sequence[Claim], *, judge: Judge | None = None, candidates: int = CANDIDATES
    ) -> list[Verdict]:
        """Judge each claim against the archive: one verdict per claim, in order.

        Each candidate article (see the module docstring; `candidates` bounds those holding the claim's
        words) is judged by `quotes.verify.averify` with its stored extraction, by `judge` (a model)
        when given, else without a model. The verdict is the strongest any article gives — supported,
        misattributed, altered, unattributed, could_not_check, not_found — from the closest and then
        earliest article, with every article's evidence in `evidence_all`, earliest first.
        """
        with self._lock:
            chosen = [self._candidates(claim, candidates) for claim in claims]
            stored = self._load(row for rows, _ in chosen for row in rows)
        asked: dict[int, list[int]] = {}
        for index, (rows, _) in enumerate(chosen):
            for row in rows:
                asked.setdefault(row, []).append(index)
        extractor = self._judging_extractor()

        async def judged(row: int, indexes: list[int]) -> list[tuple[int, Verdict]]:
            wanted = [claims[i] for i in indexes]
            article, extraction = stored[row].article, stored[row].extraction
            verdicts = await averify(article, wanted, extraction=extraction, extractor=extractor, judge=judge)
            return list(zip(indexes, verdicts, strict=True))

        found: list[list[tuple[_Stored, Verdict]]] = [[] for _ in claims]
        for row, pairs in zip(
            asked, await asyncio.gather(*(judged(r, i) for r, i in asked.items())), strict=True
        ):
            for index, verdict in pairs:
                found[index].append((stored[row], verdict))
        return [_across(claim, found[i], more=chosen[i][1]) for i, claim in enumerate(claims)]

    def verify(
        self, claims: Sequence[Claim], *, judge: Judge | None = None, candidates: int = CANDIDATES
    ) -> list[Verdict]:
        """Sync form of `averify`; call `averify` instead from inside a running event loop."""
        return asyncio.run(self.averify(claims, judge=judge, candidates=candidates))

    def _judging_extractor(self) -> Extractor:
        # The stored extraction is what is judged: this extractor never runs, it only tells `averify`
        # that no model is to be asked unless a judge is given.
        if self._extractor is None:
            self._extractor = Extractor(RulesBackend())
        return self._extractor

    def _candidates(self, claim: Claim, limit: int) -> tuple[list[int], int]:
        """The current extractions to judge a claim against, and how many more hold its words.

        FTS5 answers an AND of words by walking the rarest word's list and seeking in the others, and
        pays for every word at every match: so each query asks for the claim's RAREST words only (by
        how many statements hold each, counted up to COUNT_CAP, longer words first among equals), or,
        when even the rarest is that common, for its longest run of words statements hold, in a row:
        1. statements holding those words near each other: the earliest said by the claimed speaker
           (by the words of the speaker's name, mention or role) and the earliest of all, up to `limit`
           articles; a word in no statement at all (as a changed word often is) is left out, so an
           altered claim finds the statement it alters;
        2. else the CLOSEST statements holding fewer of them;
        3. and when some word is in no statement, only the first of those, and the earliest text
           holding the rarest words, those first (words no statement covers).
        """
        tokens = list(dict.fromkeys(_TOKEN.findall(_fold(claim.quote))))
        if not tokens:
            return [], 0
        counts = {token: self._count(f"statement : {_phrase(token)}") for token in tokens}
        ranked = sorted(tokens, key=lambda t: (counts[t] == 0, counts[t], -len(t)))
        rare = [t for t in ranked if counts[t]][:RAREST]
        earliest = (
            "SELECT e.id FROM statements_fts JOIN statements s ON s.id = statements_fts.rowid "
            "JOIN extractions e ON e.id = s.extraction AND e.current WHERE statements_fts MATCH ? "
            "GROUP BY e.id ORDER BY e.date IS NULL, e.date, e.id"
        )
        holding: list[int] = []
        if rare and counts[rare[0]] >= COUNT_CAP:
            # Words all too common to pick statements out ("this is an issue that has"): the claim's
            # longest run of words that statements hold, in a row. Slower, as FTS5 then reads their
            # positions, but only such claims pay for it.
            run = max(_runs([t if counts[t] else "" for t in _TOKEN.findall(_fold(claim.quote))]), key=len)
            words = _phrase(" ".join(run))
            holding = self._rows(earliest, f"statement : ({words})")
        if rare and not holding:
            # The rarest words near each other, as in the claim (an AND of them costs the same and
            # also takes statements where they stand apart).
            span = len(_TOKEN.findall(claim.quote)) + NEAR_SLACK
            words = f"NEAR({' '.join(map(_phrase, rare))}, {span})"
            holding = self._rows(earliest, f"statement : ({words})")
        chosen: list[int] = []
        if holding:
            name = " AND ".join(map(_phrase, _TOKEN.findall(_fold(claim.speaker))))
            said = (
                self._rows(earliest + " LIMIT 1", f"statement : ({words}) AND speaker : ({name})")
                if name
                else []
            )
            chosen = list(dict.fromkeys(said + holding))[:limit]
        for size in range(len(rare) - 1, 0, -1):
            if chosen:
                break
            chosen = self._rows(
                "SELECT DISTINCT e.id FROM (SELECT rowid, rank FROM statements_fts WHERE statements_fts "
                "MATCH ? ORDER BY rank LIMIT ?) AS hit JOIN statements s ON s.id = hit.rowid "
                "JOIN extractions e ON e.id = s.extraction AND e.current",
                f"statement : ({' AND '.join(map(_phrase, rare[:size]))})",
                4 * CLOSEST,
            )[:CLOSEST]
        if holding and all(counts.values()):
            return chosen, len(holding) - len(chosen)
        # A word in no statement is a changed word or one no statement covers, whose judging is the
        # slow fuzzy kind: one statement's article, and the earliest text holding the rarest words.
        chosen = chosen[:1]
        in_text = self._rows(
            "SELECT e.id FROM texts_fts JOIN extractions e ON e.text_id = texts_fts.rowid AND e.current "
            "WHERE texts_fts MATCH ? ORDER BY e.date IS NULL, e.date, e.id LIMIT 1",
            " AND ".join(map(_phrase, ranked[:RAREST])),
        )
        return list(dict.fromkeys(chosen + in_text)), max(0, len(holding) - len(chosen))

    def _rows(self, sql: str, *params: object) -> list[int]:
        return [int(row[0]) for row in self._db.execute(sql, params)]

    def _count(self, query: str) -> int:
        """How many statements match, counted up to COUNT_CAP (enough to tell rare words from common)."""
        sql = "SELECT count(*) FROM (SELECT 1 FROM statements_fts WHERE statements_fts MATCH ? LIMIT ?)"
        return int(self._db.execute(sql, (query, COUNT_CAP)).fetchone()[0])


# --- the archive's verdict -----------------------------------------------------------------------------


def _across(claim: Claim, judged: list[tuple[_Stored, Verdict]], *, more: int) -> Verdict:
    """One verdict from every article's: the strongest label, from the closest and then earliest
    article, with each article's evidence (tagged with that article's own verdict) earliest first."""
    evidence: list[tuple[tuple[bool, str, int], int, Evidence]] = []
    for stored, verdict in judged:
        if verdict.evidence is not None:
            tagged = _placed(verdict.evidence, stored, verdict)
            evidence.append((stored.order, tagged.start, tagged))
    evidence.sort(key=lambda item: item[:2])
    unjudged = (
        f"; {_articles(more)} more holding these words not judged (raise `candidates` to judge them)"
        if more
        else ""
    )
    if not judged:
        return Verdict(
            claim=claim,
            verdict="not_found",
            score=0.0,
            explanation="no article in the archive holds any of these words",
        )
    earliest = sorted(judged, key=lambda pair: pair[0].order)
    stored, best = max(earliest, key=lambda pair: (_STANDING[pair[1].verdict], pair[1].score))
    where = _where(stored)
    counts = Counter(v.verdict for _, v in judged)
    tally = ", ".join(f"{label} in {_articles(n)}" for label, n in counts.most_common())
    if best.verdict == "not_found":
        explanation = (
            f"no article holds these words: judged the {_articles(len(judged))} sharing the most words "
            f"with them; closest {where}: {best.explanation}{unjudged}"
        )
    else:
        first = "first " if best.verdict == "supported" else ""
        across = f"; across the archive: {tally}" if len(judged) > 1 else ""
        explanation = f"{first}in {where}: {best.explanation}{across}{unjudged}"
    return best.model_copy(
        update={
            "evidence": None if best.evidence is None else _placed(best.evidence, stored, best),
            "evidence_all": [item for _, _, item in evidence],
            "explanation": explanation,
        }
    )


def _placed(evidence: Evidence, stored: _Stored, verdict: Verdict) -> Evidence:
    article = stored.article
    return evidence.model_copy(
        update={
            "article_id": article.id,
            "source": article.source,
            "date": article.date,
            "url": article.url,
            "verdict": verdict.verdict,
        }
    )


def _articles(count: int) -> str:
    return f"{count} article{'s' if count != 1 else ''}"


def _where(stored: _Stored) -> str:
    article = stored.article
    return f"{article.id} ({article.date})" if article.date else article.id


# --- query text ----------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Text as the index's tokenizer sees it: lower case, without diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _phrase(words: str) -> str:
    return '"' + words.replace('"', '""') + '"'


def _match(words: str) -> str:
    """A user's words as an FTS5 query: every word (or "quoted phrase", or prefix*) required."""
    parts = []
    for phrase, word in _QUERY_PART.findall(words):
        prefix = word.endswith("*")
        text = phrase or word.rstrip("*")
        if _TOKEN.search(text):
            parts.append(_phrase(text) + ("*" if prefix else ""))
    return " AND ".join(parts)


def _runs(tokens: list[str]) -> list[list[str]]:
    """The runs of tokens between empty ones."""
    runs: list[list[str]] = [[]]
    for token in tokens:
        if token:
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return runs


def _day(value: str | date) -> str:
    return iso_date(value.isoformat() if isinstance(value, date) else value)[:10]


def _speaker_words(quote: Quote) -> str:
    speaker = quote.speaker
    return " ; ".join(dict.fromkeys(w for w in (speaker.name, speaker.mention, speaker.role) if w))
