"""The web app: `create_app(service)` gives the FastAPI application `quotes serve` runs on uvicorn.

Pages are rendered on the server; the few scripts and the stylesheet come from this package, under a
Content-Security-Policy that allows nothing else. `/openapi.json` is the API's schema (checked in as
docs/openapi.json); the interactive docs, which load from a CDN, are off.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from quotes import render
from quotes.serve import api, pages, views
from quotes.serve.guard import Guard
from quotes.serve.jobs import Busy, Jobs
from quotes.serve.service import BadInput, Service, TooLarge

log = logging.getLogger("quotes.serve")

_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def _static_files() -> dict[str, tuple[str, str]]:
    own = files("quotes.serve").joinpath("static")
    serve_css = own.joinpath("serve.css").read_text(encoding="utf-8")
    return {
        "quotes.css": (render.stylesheet() + serve_css, _STATIC_TYPES[".css"]),
        "report.js": (render.report_script(), _STATIC_TYPES[".js"]),
        "serve.js": (own.joinpath("serve.js").read_text(encoding="utf-8"), _STATIC_TYPES[".js"]),
    }


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def create_app(service: Service, *, token: str | None = None, loopback_only: bool = True) -> FastAPI:
    """The application around `service`. `token`, when given, is required of every request (a bearer
    header, or the session cookie the sign-in page sets); `loopback_only` refuses a Host header other
    than this machine's (a server bound to 127.0.0.1 is not reachable through DNS rebinding)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.jobs.aclose()
        await service.aclose()

    app = FastAPI(
        title="quotes",
        summary="Who said what about whom: extract statements, check claims, search a quote archive.",
        version=api.api_version(),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.jobs = Jobs(max_running=4 * service.extractor.concurrency)
    app.state.token = token
    app.include_router(api.router)
    app.include_router(pages.router)
    static = _static_files()

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: str) -> Response:
        if name not in static:
            return Response("not found", status_code=404, media_type="text/plain")
        body, media_type = static[name]
        return Response(body, media_type=media_type, headers={"cache-control": "no-cache"})

    def answer(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return HTMLResponse(views.message_page(status, message, backend=service.backend_line), status)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        return answer(request, 413 if isinstance(exc, TooLarge) else 400, str(exc))

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        return answer(request, 503, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, 422, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 400 and request.method == "POST" and _is_api(request):
            # FastAPI's answer to a body it cannot decode at all (invalid UTF-8, say) names nothing.
            return answer(request, 400, 'the body is not JSON in UTF-8: send {"text": ...} as UTF-8')
        return answer(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return answer(request, 500, f"the server failed on this request: {type(exc).__name__}: {exc}")

    app.add_middleware(
        Guard,
        token=token,
        max_body=service.limits.max_request_bytes,
        loopback_only=loopback_only,
        page=lambda status, message, path: (
            views.login_page(message, path) if status == 401 else views.message_page(status, message)
        ),
    )
    return app


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors in one line: where, and what is wrong there."""
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            parts.append(f"the body is not valid JSON: {error.get('ctx', {}).get('error', 'cannot parse')}")
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"
