"""The HTTP API (`/v1`): the public records as JSON, for systems that are not a browser.

Every answer other than 2xx is `{"detail": "<what is wrong>"}`: 400 for input that cannot be served
(naming the field or the problem), 401 without the server's token, 413 for a request or an article over
the limits, 422 for a body that is not the JSON asked for, 502 when the model could not be reached.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from quotes.schema import Extraction, SearchHit, Verdict
from quotes.serve.service import MAX_QUOTE_CHARS, MAX_SPEAKER_CHARS, Service

router = APIRouter(prefix="/v1", tags=["v1"])


class ApiError(BaseModel):
    """What went wrong, in words."""

    detail: str


ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ApiError, "description": words}
    for status, words in (
        (400, "The input cannot be served as asked"),
        (401, "The server's token is missing or wrong"),
        (413, "The request or the article is larger than the server takes"),
        (422, "The body is not the JSON asked for"),
        (502, "The model could not be reached or failed"),
    )
}


class ExtractRequest(BaseModel):
    """An article to extract."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The article's text; offsets in the answer refer to it.")
    id: str | None = Field(default=None, max_length=500, description="The article's id (default: 'text').")


class VerifyRequest(BaseModel):
    """A claim: did `speaker` say `quote`? Checked against `text` when given, else the server's archive."""

    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(
        min_length=1, max_length=MAX_SPEAKER_CHARS, description="Who the claim says said it."
    )
    quote: str = Field(min_length=1, max_length=MAX_QUOTE_CHARS, description="The words claimed.")
    text: str | None = Field(default=None, description="The article to check against; omit for the archive.")
    id: str | None = Field(default=None, max_length=500, description="The article's id, when text is given.")


class Health(BaseModel):
    """The server is up, and what it runs with."""

    status: Literal["ok"] = "ok"
    version: str
    backend: str = Field(description="The extraction backend: llm or rules.")
    model: str | None = None
    prompt: str | None = None
    archive: bool = Field(description="Whether claims can be checked and statements searched in an archive.")
    concurrency: int = Field(description="Model requests in flight at most.")
    max_request_bytes: int
    max_article_chars: int


def _service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(_service)]


@router.post("/extract", responses=ERRORS)
async def extract(body: ExtractRequest, svc: ServiceDep) -> Extraction:
    """Who said what in the article: every statement with its speaker, cue, kind and offsets.

    A model that fails on part of the article still gives an answer: the failed character ranges are in
    `errors`, the statements found elsewhere are kept.
    """
    return await svc.extract(svc.article(body.text, body.id or "text"))


@router.post("/verify", responses=ERRORS)
async def verify(body: VerifyRequest, svc: ServiceDep) -> Verdict:
    """Did they say it? Against the article in `text`, or across the whole archive when there is none
    (then `evidence_all` lists every article's evidence, earliest first)."""
    claim = svc.claim(body.speaker, body.quote)
    if body.text is None:
        return await svc.check_archive(claim)
    article = svc.article(body.text, body.id or "text")
    return await svc.verdict(article, await svc.extract(article), claim)


@router.get("/search", responses=ERRORS)
async def search(
    svc: ServiceDep,
    q: Annotated[str, Query(max_length=1000, description='Words (all required); "a phrase"; prefix*.')] = "",
    speaker: Annotated[str | None, Query(max_length=300, description="Words of the speaker.")] = None,
    about: Annotated[str | None, Query(max_length=300, description="Words of who it is about.")] = None,
    since: Annotated[str | None, Query(description="Articles dated on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, Query(description="Articles dated on or before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[SearchHit]:
    """Statements in the archive, best first."""
    return await svc.search(q, speaker=speaker, about=about, since=since, until=until, limit=limit)


@router.get("/articles/{article_id:path}", responses={**ERRORS, 404: {"model": ApiError}})
async def article(article_id: str, svc: ServiceDep) -> Extraction:
    """One article of the archive, as extracted (its current extraction), with its text."""
    extraction = await svc.archived(article_id)
    if extraction is None:
        raise HTTPException(404, f"no article {article_id!r} in the archive")
    return extraction


@router.get("/health")
async def health(svc: ServiceDep) -> Health:
    """The server is up; what backend, model and limits it runs with."""
    provenance = svc.extractor.backend.provenance
    return Health(
        version=api_version(),
        backend=provenance.backend,
        model=provenance.model,
        prompt=provenance.prompt,
        archive=svc.archive is not None,
        concurrency=svc.extractor.concurrency,
        max_request_bytes=svc.limits.max_request_bytes,
        max_article_chars=svc.limits.max_article_chars,
    )


def api_version() -> str:
    """The installed quotes version."""
    try:
        return version("quotes")
    except PackageNotFoundError:
        return "unknown"
