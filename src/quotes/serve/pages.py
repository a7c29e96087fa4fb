"""The pages: check a claim, read an article, search the archive, and the jobs behind the first two.

A form submission starts a job and answers with a redirect to the job's page: straight to the result
when the work is quick (the rules backend), else to a page that says what is being done and reloads
itself until the result is there (a model can take seconds per article).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from quotes import render
from quotes.schema import Article, Claim, Evidence, Extraction, Verdict
from quotes.serve import views
from quotes.serve.guard import SESSION_COOKIE, session_value, token_matches
from quotes.serve.jobs import Job, Jobs
from quotes.serve.service import BadInput, Read, Service, TooLarge
from quotes.verify import speaker_name

# How long a form submission waits for its job before answering with the working page.
QUICK_SECONDS = 0.6
# Across the archive: the articles whose evidence is shown in full under a verdict (the rest are counted).
EVIDENCE_ARTICLES = 10

router = APIRouter(include_in_schema=False)


def _service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def _jobs(request: Request) -> Jobs:
    registry: Jobs = request.app.state.jobs
    return registry


ServiceDep = Annotated[Service, Depends(_service)]
JobsDep = Annotated[Jobs, Depends(_jobs)]


@dataclass
class Done:
    """A finished job: its page's main HTML and, for an article read, the article and its extraction,
    so claims about it are checked without extracting it again."""

    title: str
    html: str
    article: Article | None = None
    extraction: Extraction | None = None


Work = Callable[[Job], Awaitable[Done]]


def _page(
    svc: Service, title: str, main: str, *, active: str = "", head: str = "", status: int = 200
) -> HTMLResponse:
    page = views.page(title, main, active=active, backend=svc.backend_line, head=head)
    return HTMLResponse(page, status_code=status)


def _status(error: BadInput) -> int:
    return 413 if isinstance(error, TooLarge) else 400


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/check", status_code=303)


# --- forms ---------------------------------------------------------------------------------------------


async def _form(request: Request, svc: Service) -> FormData:
    try:
        return await request.form(max_files=1, max_fields=20, max_part_size=svc.limits.max_request_bytes)
    except MultiPartException as exc:
        raise BadInput(f"the form could not be read: {exc.message}") from None


def _values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: value for name in names if isinstance(value := form.get(name), str)}


def _pasted(text: str) -> str:
    # A browser sends a textarea's line breaks as CRLF; the article as pasted had the page's LF.
    return text.replace("\r\n", "\n")


async def _upload(svc: Service, upload: object, article_id: str | None) -> Read:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise BadInput("choose a file to upload")
    data = await upload.read()
    return svc.upload(data, upload.filename, article_id)


async def _article_ref(svc: Service, registry: Jobs, *, job: str, article: str) -> views.ArticleRef | None:
    """The article a "check a claim about this" link points at: a read job's, or one in the archive."""
    if job:
        found = registry.get(job)
        if found is not None and isinstance(found.result, Done) and found.result.article is not None:
            return views.ArticleRef("job", job, found.result.article.id)
    if article and svc.archive is not None and await svc.archived(article) is not None:
        return views.ArticleRef("article", article, article)
    return None


# --- check a claim -------------------------------------------------------------------------------------


@router.get("/check")
async def check_page(
    svc: ServiceDep, registry: JobsDep, speaker: str = "", quote: str = "", job: str = "", article: str = ""
) -> HTMLResponse:
    ref = await _article_ref(svc, registry, job=job, article=article)
    values = {"speaker": speaker, "quote": quote}
    form = views.check_form(values, has_archive=svc.archive is not None, ref=ref)
    return _page(svc, "Check a claim", "<h1>Check a claim</h1>" + form, active="/check")


@router.post("/check")
async def check_submit(request: Request, svc: ServiceDep, registry: JobsDep) -> Response:
    values: dict[str, str] = {}
    ref = None
    try:
        form = await _form(request, svc)
        values = _values(form, ("speaker", "quote", "source", "text", "job", "article"))
        ref = await _article_ref(svc, registry, job=values.get("job", ""), article=values.get("article", ""))
        claim = svc.claim(values.get("speaker", ""), values.get("quote", ""))
        work = await _check_work(svc, registry, values, form.get("file"), claim)
    except BadInput as error:
        form_html = views.check_form(values, has_archive=svc.archive is not None, ref=ref, error=str(error))
        return _page(svc, "Check a claim", "<h1>Check a claim</h1>" + form_html, status=_status(error))
    title = f"Did {claim.speaker} say “{render.shorten(claim.quote, 80)}”?"
    job = registry.start("check", title, "starting", work)
    await registry.wait(job, QUICK_SECONDS)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def _check_work(
    svc: Service, registry: Jobs, values: dict[str, str], upload: object, claim: Claim
) -> Work:
    """The job that checks the claim against the chosen source. Input problems are raised here, before
    the job starts, so the form comes back saying what is wrong."""
    source = values.get("source") or "text"
    if source == "archive":
        if svc.archive is None:
            raise BadInput("this server has no archive: start it with --archive")
        return _archive_check(svc, claim)
    if source == "ref" and values.get("job"):
        found = registry.get(values["job"])
        if found is None or not isinstance(found.result, Done) or found.result.article is None:
            raise BadInput("that article is no longer on the server: paste or upload it again")
        article = found.result.article
        return _text_check(svc, claim, article, found.result.extraction, f"the article “{article.id}”")
    if source == "ref" and values.get("article"):
        extraction = await svc.archived(values["article"])
        if extraction is None or extraction.text is None:
            raise BadInput(f"no article {values['article']!r} in the archive")
        article = Article(id=extraction.id, text=extraction.text, source=extraction.source)
        return _text_check(svc, claim, article, extraction, f"the archived article “{article.id}”")
    if source == "file":
        read = await _upload(svc, upload, None)
        return _text_check(svc, claim, read.article, None, f"the file “{read.article.source}”")
    if source == "text":
        article = svc.article(_pasted(values.get("text", "")), "pasted article")
        return _text_check(svc, claim, article, None, "the pasted article")
    raise BadInput(f"unknown source {source!r}: choose a pasted article, an uploaded file or the archive")


def _text_check(
    svc: Service, claim: Claim, article: Article, extraction: Extraction | None, source: str
) -> Work:
    async def work(job: Job) -> Done:
        if extraction is None:
            job.stage = f"extracting the statements of {len(article.text):,} characters"
            extracted = await svc.extract(article)
        else:
            extracted = extraction
        job.stage = "judging the claim"
        verdict = await svc.verdict(article, extracted, claim)
        main = views.check_result(verdict, [(extracted, verdict)], across_archive=False, source=source)
        return Done(job.title, main)

    return work


def _archive_check(svc: Service, claim: Claim) -> Work:
    async def work(job: Job) -> Done:
        job.stage = "searching the archive and judging the closest articles"
        verdict = await svc.check_archive(claim)
        job.stage = "loading the evidence's articles"
        shown: list[tuple[Extraction, Verdict]] = []
        by_article: dict[str, Evidence] = {}
        for evidence in verdict.evidence_all:  # earliest first: each article shows its first evidence
            by_article.setdefault(evidence.article_id or "", evidence)
        for article_id, evidence in list(by_article.items())[:EVIDENCE_ARTICLES]:
            extraction = await svc.archived(article_id)
            if extraction is not None:
                shown.append((extraction, _one_article(verdict, evidence)))
        main = views.check_result(
            verdict,
            shown,
            across_archive=True,
            source="the archive",
            more_articles=max(0, len(by_article) - EVIDENCE_ARTICLES),
        )
        return Done(job.title, main)

    return work


def _one_article(verdict: Verdict, evidence: Evidence) -> Verdict:
    """The verdict one article of the archive gives, for marking its evidence in that article."""
    label = evidence.verdict or verdict.verdict
    actual = speaker_name(evidence.speaker) if evidence.speaker and label == "misattributed" else None
    return Verdict(
        claim=verdict.claim,
        verdict=label,
        score=verdict.score,
        evidence=evidence,
        actual_speaker=actual,
        article_id=evidence.article_id,
    )


# --- read an article -----------------------------------------------------------------------------------


@router.get("/read")
async def read_page(svc: ServiceDep) -> HTMLResponse:
    return _page(svc, "Read an article", "<h1>Read an article</h1>" + views.read_form({}), active="/read")


@router.post("/read")
async def read_submit(request: Request, svc: ServiceDep, registry: JobsDep) -> Response:
    values: dict[str, str] = {}
    try:
        form = await _form(request, svc)
        values = _values(form, ("id", "text"))
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            read = await _upload(svc, upload, values.get("id"))
        else:
            read = Read(svc.article(_pasted(values.get("text", "")), values.get("id") or "pasted article"))
    except BadInput as error:
        main = "<h1>Read an article</h1>" + views.read_form(values, error=str(error))
        return _page(svc, "Read an article", main, active="/read", status=_status(error))
    article = read.article

    async def work(job: Job) -> Done:
        job.stage = f"extracting the statements of {len(article.text):,} characters"
        extraction = await svc.extract(article)
        main = views.read_result(extraction, read.warnings, views.ArticleRef("job", job.id, article.id))
        return Done(job.title, main, article, extraction)

    job = registry.start("read", f"Who said what in “{article.id}”", "starting", work)
    await registry.wait(job, QUICK_SECONDS)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


# --- jobs ----------------------------------------------------------------------------------------------


@router.get("/jobs/{job_id}")
async def job_page(job_id: str, svc: ServiceDep, registry: JobsDep) -> HTMLResponse:
    job = registry.get(job_id)
    if job is None:
        main = views.notice("Not found", "No such job on this server (it may have been forgotten).")
        return _page(svc, "Not found", main, status=404)
    active = "/read" if job.kind == "read" else "/check"
    if job.error is not None:
        kept = (
            "nothing: the article was not extracted, so there is no partial result; try again, or "
            "check the model server"
        )
        return _page(svc, job.title, views.failed(job.title, job.error, kept), active=active, status=502)
    if isinstance(job.result, Done):
        return _page(svc, job.title, job.result.html, active=active)
    main, head = views.working(job.id, job.title, job.stage, job.seconds)
    return _page(svc, job.title, main, active=active, head=head)


@router.get("/jobs/{job_id}/state")
async def job_state(job_id: str, registry: JobsDep) -> JSONResponse:
    job = registry.get(job_id)
    if job is None:
        return JSONResponse({"detail": "no such job"}, status_code=404)
    return JSONResponse({"done": job.done, "stage": job.stage, "seconds": round(job.seconds, 1)})


# --- the archive ---------------------------------------------------------------------------------------


@router.get("/search")
async def search_page(
    svc: ServiceDep, q: str = "", speaker: str = "", about: str = "", since: str = "", until: str = ""
) -> HTMLResponse:
    values = {"q": q, "speaker": speaker, "about": about, "since": since, "until": until}
    has_archive = svc.archive is not None
    form = views.search_form(values, has_archive=has_archive)
    if not has_archive:
        note = views.notice("No archive", "Start the server with --archive quotes.db to search one.")
        return _page(svc, "Search the archive", "<h1>Search the archive</h1>" + note + form, active="/search")
    asked = any(values.values())
    status = 200
    try:
        hits = (
            await svc.search(
                q, speaker=speaker or None, about=about or None, since=since or None, until=until or None
            )
            if asked
            else []
        )
        results = views.search_results(hits, asked, by_words=bool(q.strip()))
    except BadInput as error:
        results, status = views.notice("That search cannot be done", str(error)), 400
    main = "<h1>Search the archive</h1>" + form + results
    return _page(svc, "Search the archive", main, active="/search", status=status)


@router.get("/articles/{article_id:path}")
async def article_page(article_id: str, svc: ServiceDep, quote: str = "") -> HTMLResponse:
    extraction = await svc.archived(article_id) if svc.archive is not None else None
    if extraction is None:
        main = views.notice("Not found", f"No article {article_id!r} in the archive.")
        return _page(svc, "Not found", main, status=404)
    main = views.read_result(extraction, [], views.ArticleRef("article", article_id, article_id), focus=quote)
    return _page(svc, extraction.id, main, active="/search")


# --- the token, for a browser --------------------------------------------------------------------------


@router.get("/login")
async def login_page(next: str = "/") -> HTMLResponse:
    return HTMLResponse(views.login_page("This server needs its token.", next))


@router.post("/login")
async def login(request: Request) -> Response:
    token: str | None = request.app.state.token
    form = await request.form(max_files=0, max_fields=4)
    given, target = form.get("token"), form.get("next")
    target = views.local_path(target if isinstance(target, str) else "/")
    if token is None:
        return RedirectResponse(target, status_code=303)
    if not isinstance(given, str) or not token_matches(token, given.strip()):
        return HTMLResponse(views.login_page("That is not the token.", target), status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_value(token), httponly=True, samesite="strict", path="/")
    return response
