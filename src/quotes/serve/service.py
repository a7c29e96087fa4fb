"""What the pages and the HTTP API do, in one place: read an article, extract it, check a claim against it
or against the archive, search the archive. Every operation calls the core (`Extractor`, `averify`,
`Archive`); nothing here judges or extracts on its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import PurePath

from anyio import to_thread

from quotes.archive import Archive
from quotes.articles import HTML_SUFFIXES, InputProblem, read_bytes
from quotes.pipeline import Extractor
from quotes.schema import Article, Claim, Extraction, SearchHit, Verdict
from quotes.verify import Judge, averify

DEFAULT_MAX_REQUEST_BYTES = 2_000_000
DEFAULT_MAX_ARTICLE_CHARS = 200_000
# A claim's speaker and words: longer is not a claim but an article pasted in the wrong box.
MAX_SPEAKER_CHARS = 300
MAX_QUOTE_CHARS = 5000


class BadInput(Exception):
    """The request cannot be served as asked; the message says what is wrong (HTTP 400)."""


class TooLarge(BadInput):
    """An article longer than the server takes (HTTP 413)."""


class NoArchive(BadInput):
    """The request needs the archive and the server has none."""

    def __init__(self) -> None:
        super().__init__("this server has no archive: start it with `quotes serve --archive quotes.db`")


@dataclass(frozen=True)
class Limits:
    """`max_request_bytes` bounds any request body (uploads included); `max_article_chars` an article."""

    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS


@dataclass
class Read:
    """An article read from a form or a request, with what reading it warned about."""

    article: Article
    warnings: list[str] = field(default_factory=list)


class Service:
    """One server's extractor, judge and archive, shared by every request.

    Model requests are bounded by `extractor.concurrency` (the CLI's `--concurrency`), one limit for
    extraction and the judge of paraphrased claims alike.
    """

    def __init__(
        self,
        extractor: Extractor,
        *,
        backend_line: str,
        archive: Archive | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.extractor = extractor
        self.backend_line = backend_line
        self.archive = archive
        self.limits = limits or Limits()
        # Checks across the archive each load and judge several articles: at most `concurrency` at once,
        # so a burst of them queues instead of holding every candidate article in memory together.
        self._archive_slots = asyncio.Semaphore(extractor.concurrency)
        self.judge = Judge.for_extractor(extractor)

    async def aclose(self) -> None:
        if self.judge is not None:
            await self.judge.aclose()
        await self.extractor.aclose()
        if self.archive is not None:
            self.archive.close()

    # --- reading -------------------------------------------------------------------------------------

    def article(self, text: str, article_id: str | None = None, *, source: str | None = None) -> Article:
        """An article from text given in a form or a request, held to the server's limits."""
        if not text.strip():
            raise BadInput("the article text is empty")
        self._check_length(len(text))
        return Article(id=(article_id or "").strip() or "pasted", text=text, source=source)

    @staticmethod
    def claim(speaker: str, quote: str) -> Claim:
        """A claim from a form or a request, its speaker and words present and of a claim's length."""
        speaker, quote = speaker.strip(), quote.strip()
        if not speaker or not quote:
            raise BadInput("give both who is said to have said it and the words claimed")
        if len(speaker) > MAX_SPEAKER_CHARS or len(quote) > MAX_QUOTE_CHARS:
            raise BadInput(
                f"a claim's speaker takes at most {MAX_SPEAKER_CHARS} characters and its words at most "
                f"{MAX_QUOTE_CHARS:,}; to check a whole text, read it as an article"
            )
        return Claim(speaker=speaker, quote=quote)

    def upload(self, data: bytes, filename: str | None, article_id: str | None = None) -> Read:
        """An uploaded file as an article, decoded and checked as `quotes extract` reads a file."""
        name = PurePath(filename or "upload.txt").name or "upload.txt"
        chosen = (article_id or "").strip() or PurePath(name).stem or "upload"
        items = read_bytes(data, chosen, source=name, is_html=PurePath(name).suffix.lower() in HTML_SUFFIXES)
        problems = [item for item in items if isinstance(item, InputProblem)]
        errors = [str(p) for p in problems if p.severity == "error"]
        if errors:
            raise BadInput("; ".join(errors))
        [article] = [item for item in items if isinstance(item, Article)]
        self._check_length(len(article.text))
        return Read(article, [str(p) for p in problems])

    def _check_length(self, chars: int) -> None:
        limit = self.limits.max_article_chars
        if chars > limit:
            raise TooLarge(
                f"the article is {chars:,} characters long; this server takes at most {limit:,} "
                "(quotes serve --max-chars)"
            )

    # --- the work ------------------------------------------------------------------------------------

    async def extract(self, article: Article) -> Extraction:
        return await self.extractor.aextract(article)

    async def verdict(self, article: Article, extraction: Extraction, claim: Claim) -> Verdict:
        """The claim judged against one article, given the article's extraction."""
        [verdict] = await averify(
            article, [claim], extraction=extraction, extractor=self.extractor, judge=self.judge
        )
        return verdict

    async def check_archive(self, claim: Claim) -> Verdict:
        """The claim judged across the whole archive: the strongest verdict, every evidence earliest first."""
        archive = self._archive()
        async with self._archive_slots:
            [verdict] = await archive.averify([claim], judge=self.judge)
        return verdict

    async def search(
        self,
        words: str = "",
        *,
        speaker: str | None = None,
        about: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        archive = self._archive()
        try:
            return await to_thread.run_sync(
                lambda: archive.search(
                    words, speaker=speaker, about=about, since=since, until=until, limit=limit
                )
            )
        except ValueError as exc:
            raise BadInput(str(exc)) from None

    async def archived(self, article_id: str) -> Extraction | None:
        archive = self._archive()
        return await to_thread.run_sync(archive.extraction, article_id)

    def _archive(self) -> Archive:
        if self.archive is None:
            raise NoArchive()
        return self.archive
