"""The HTML of the pages. Articles are shown by `quotes.render` (the report's view, the same highlighting);
this module holds the forms, the verdict in plain words, search results and the page around them.

Every text that comes from an article, a claim, a file name or a form goes through `esc` (or through
`render`, which escapes its own).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from string import Template
from urllib.parse import quote, urlencode

from quotes import render
from quotes.schema import Evidence, Extraction, Quote, SearchHit, Verdict, VerdictLabel

PAGES = (("/check", "Check a claim"), ("/read", "Read an article"), ("/search", "Search the archive"))


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _template(name: str) -> Template:
    return Template(files("quotes.serve").joinpath(f"templates/{name}").read_text(encoding="utf-8"))


_LAYOUT = _template("layout.html")


def page(title: str, main: str, *, active: str = "", backend: str = "", head: str = "") -> str:
    """A whole page: the navigation, `main` (HTML already escaped), the tooltip the report's script uses."""
    nav = "".join(
        f'<a href="{path}"{" aria-current=page" if path == active else ""}>{esc(label)}</a>'
        for path, label in PAGES
    )
    return _LAYOUT.substitute(title=esc(title), main=main, nav=nav, backend=esc(backend), head=head)


def notice(title: str, message: str) -> str:
    return f'<section class="notice bad" role="alert"><h2>{esc(title)}</h2><p>{esc(message)}</p></section>'


def message_page(status: int, message: str, *, backend: str = "") -> str:
    """A page that says what went wrong with a request (bad input, too large, not found)."""
    title = _STATUS_WORDS.get(status, "Error")
    return page(title, notice(title, message) + '<p><a href="/">Back to the start</a></p>', backend=backend)


_STATUS_WORDS = {
    400: "That cannot be done",
    404: "Not found",
    413: "Too large",
    422: "That cannot be done",
    502: "The model call failed",
    503: "Busy",
}


def local_path(path: str) -> str:
    """`path` when it is a path on this server, else "/": a sign-in never sends the browser elsewhere
    ("//host" and "/\\host" are other hosts to a browser)."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"


def login_page(message: str, next_path: str) -> str:
    target = local_path(next_path)
    main = (
        f'<section class="notice" role="alert"><h1>Sign in</h1><p>{esc(message)} Paste it here; the '
        "browser keeps a session cookie derived from it, never the token itself.</p>"
        '<form method="post" action="/login" class="stack">'
        f'<input type="hidden" name="next" value="{esc(target)}">'
        '<label>Token <input type="password" name="token" autocomplete="current-password" required></label>'
        '<button type="submit">Sign in</button></form></section>'
    )
    return page("Sign in", main)


# --- forms ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRef:
    """An article the claim form can check against without pasting it again: a read job's or an
    archived one."""

    field: str  # "job" or "article"
    value: str
    label: str


def check_form(
    values: Mapping[str, str], *, has_archive: bool, ref: ArticleRef | None = None, error: str = ""
) -> str:
    chosen = values.get("source") or ("ref" if ref else "archive" if has_archive else "text")

    def radio(value: str, label: str, *, disabled: bool = False) -> str:
        checked = " checked" if value == chosen and not disabled else ""
        off = " disabled" if disabled else ""
        return (
            f'<label class="choice"><input type="radio" name="source" value="{value}" id="src-{value}"'
            f"{checked}{off}> {label}</label>"
        )

    sources = [radio("text", "a pasted article"), radio("file", "an uploaded file")]
    archive_label = "the whole archive" if has_archive else "the whole archive (start with --archive)"
    sources.append(radio("archive", archive_label, disabled=not has_archive))
    hidden = ""
    if ref is not None:
        sources.insert(0, radio("ref", f"the article “{esc(ref.label)}”"))
        hidden = f'<input type="hidden" name="{esc(ref.field)}" value="{esc(ref.value)}">'
    return (
        '<form method="post" action="/check" enctype="multipart/form-data" class="stack work" '
        'aria-label="Check a claim">'
        f"{_error(error)}"
        '<label>Who is said to have said it <input name="speaker" required maxlength="300" '
        f'value="{esc(values.get("speaker", ""))}" placeholder="e.g. Ana Ruiz"></label>'
        '<label>The words claimed <textarea name="quote" rows="3" required maxlength="5000" '
        f'placeholder="e.g. the harbour will reopen in May">{esc(values.get("quote", ""))}</textarea></label>'
        f"<fieldset><legend>Check it against</legend>{''.join(sources)}</fieldset>{hidden}"
        '<div class="src src-text"><label>The article <textarea name="text" rows="10" '
        f'placeholder="Paste the article here">{esc(values.get("text", ""))}</textarea></label></div>'
        '<div class="src src-file"><label>The article as a file (.txt or .html) '
        '<input type="file" name="file" accept=".txt,.md,.html,.htm,text/plain,text/html"></label></div>'
        '<p><button type="submit">Check the claim</button> <span class="busy-note" aria-live="polite">'
        "</span></p></form>"
    )


def read_form(values: Mapping[str, str], *, error: str = "") -> str:
    return (
        '<form method="post" action="/read" enctype="multipart/form-data" class="stack work" '
        'aria-label="Read an article">'
        f"{_error(error)}"
        '<label>Article name (optional) <input name="id" maxlength="200" '
        f'value="{esc(values.get("id", ""))}" placeholder="e.g. harbour-story"></label>'
        '<label>Paste the article <textarea name="text" rows="12" placeholder="Paste the article here">'
        f"{esc(values.get('text', ''))}</textarea></label>"
        '<label>… or upload it (.txt or .html) <input type="file" name="file" '
        'accept=".txt,.md,.html,.htm,text/plain,text/html"></label>'
        '<p><button type="submit">Find who said what</button> <span class="busy-note" aria-live="polite">'
        "</span></p></form>"
    )


def search_form(values: Mapping[str, str], *, has_archive: bool) -> str:
    def field(name: str, label: str, kind: str = "text", placeholder: str = "") -> str:
        return (
            f'<label>{label} <input type="{kind}" name="{name}" value="{esc(values.get(name, ""))}"'
            f' placeholder="{esc(placeholder)}"></label>'
        )

    off = "" if has_archive else " disabled"
    return (
        '<form method="get" action="/search" class="stack search" role="search">'
        f'<fieldset{off} class="row">'
        + field("q", "Words", placeholder='e.g. harbour "reopen in May"')
        + field("speaker", "Speaker", placeholder="e.g. Ruiz")
        + field("about", "About", placeholder="e.g. the port authority")
        + field("since", "From", "date")
        + field("until", "To", "date")
        + '<button type="submit">Search</button></fieldset></form>'
    )


def _error(message: str) -> str:
    return f'<p class="notice bad" role="alert">{esc(message)}</p>' if message else ""


# --- long work -----------------------------------------------------------------------------------------


def working(job_id: str, title: str, stage: str, seconds: float) -> tuple[str, str]:
    """The page of work still running, and the head that makes it reload itself without JavaScript."""
    main = (
        f'<section class="working" id="job" data-job="{esc(job_id)}" aria-busy="true">'
        f'<h1>{esc(title)}</h1><p class="spinner" role="status"><span class="dot" aria-hidden="true"></span>'
        f'<span id="stage">{esc(stage)}</span> · <span id="seconds">{seconds:.0f}</span> s</p>'
        "<p class=sub>This page updates by itself when the work is done.</p></section>"
    )
    return main, '<noscript><meta http-equiv="refresh" content="2"></noscript>'


def failed(title: str, error: str, kept: str) -> str:
    return (
        f'<section class="notice bad" role="alert"><h1>{esc(title)}: it failed</h1>'
        f"<p><b>What failed:</b> {esc(error)}</p><p><b>What was kept:</b> {esc(kept)}</p></section>"
    )


# --- reading an article --------------------------------------------------------------------------------


def check_link(ref: ArticleRef) -> Callable[[Quote], str]:
    """The "check a claim about this" link of each statement: the claim form filled with its words."""

    def link(quote: Quote) -> str:
        speaker = quote.speaker.name or quote.speaker.mention or ""
        return "/check?" + urlencode({ref.field: ref.value, "speaker": speaker, "quote": quote.text})

    return link


def read_result(extraction: Extraction, warnings: Sequence[str], ref: ArticleRef, *, focus: str = "") -> str:
    """The article as the report shows it; `focus` names a statement (its id) to open the page at."""
    summary = (
        f"{_count(len(extraction.quotes), 'statement')} by "
        f"{_count(len({_who(q) for q in extraction.quotes}), 'speaker')}"
    )
    notes = "".join(f'<p class="notice warn">{esc(w)}</p>' for w in warnings)
    if focus and any(q.id == focus for q in extraction.quotes):
        notes += (
            f'<p class="sub" id="focus" data-quote="{esc(focus)}">The statement you followed is outlined.</p>'
        )
    return (
        f'<section class="result"><h1>Who said what in “{esc(extraction.id)}”</h1>'
        f'<p class="sub">{esc(summary)}</p>{notes}{_chunk_failures(extraction)}{render.LEGEND}</section>'
        + render.article_html(extraction, check_link=check_link(ref))
    )


def _chunk_failures(extraction: Extraction) -> str:
    """A failed model call in words: which part of the article, why, and what is still shown."""
    if not extraction.errors:
        return ""
    parts = "; ".join(f"characters {e.start:,}–{e.end:,} ({e.kind}: {e.message})" for e in extraction.errors)
    kept = _count(len(extraction.quotes), "statement")
    return (
        f'<p class="notice bad" role="alert"><b>The model failed on part of the article:</b> {esc(parts)}. '
        f"Statements there are missing; the {esc(kept)} found elsewhere are kept and shown below.</p>"
    )


def _who(quote: Quote) -> str:
    return quote.speaker.name or quote.speaker.mention or "unknown"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- a verdict -----------------------------------------------------------------------------------------

_HEADLINES: dict[VerdictLabel, str] = {
    "supported": "Supported",
    "misattributed": "Misattributed",
    "altered": "Altered",
    "unattributed": "Unattributed",
    "not_found": "Not found",
    "could_not_check": "Could not check",
}


def verdict_words(verdict: Verdict, *, across_archive: bool) -> str:
    """The verdict as a reader would say it."""
    claimed = verdict.claim.speaker
    where = "the archive" if across_archive else "the article"
    said = {
        "supported": f"{claimed} said these words.",
        "misattributed": f"These words were said by {verdict.actual_speaker or 'someone else'}, "
        f"not by {claimed}.",
        "altered": f"{claimed} said something close to this, but not these words.",
        "unattributed": f"{where.capitalize()} holds these words, but does not say who said them.",
        "not_found": f"{where.capitalize()} does not hold these words.",
        "could_not_check": "Extracting the article failed, so the claim can be neither confirmed nor "
        "refuted.",
    }
    return said[verdict.verdict]


def check_result(
    verdict: Verdict,
    articles: Sequence[tuple[Extraction, Verdict]],
    *,
    across_archive: bool,
    source: str,
    more_articles: int = 0,
) -> str:
    """The verdict first, in words; then what backs it; then each piece of evidence in its article."""
    claim = verdict.claim
    facts = []
    if verdict.confidence is not None:
        facts.append(f"confidence {verdict.confidence:.0%}")
    facts.append(f"checked against {source}")
    others = [label for label in verdict.problems if label != verdict.verdict]
    detail = []
    if others:
        detail.append(f"<li>Also: {esc(', '.join(_HEADLINES[o].lower() for o in others))}.</li>")
    if verdict.actual_speaker and verdict.verdict != "supported":
        detail.append(f"<li>Actually said by <b class=actual>{esc(verdict.actual_speaker)}</b>.</li>")
    if verdict.variants:
        detail.append(f"<li>Differences that change no meaning: {esc('; '.join(verdict.variants))}.</li>")
    if verdict.diff and any(op.op != "equal" for op in verdict.diff):
        diff = render.diff_html(verdict.diff)
        detail.append(f'<li>Claim → article, word by word: <span class="diff">{diff}</span></li>')
    if verdict.explanation:
        detail.append(f"<li class=why>{esc(verdict.explanation)}</li>")
    words = verdict_words(verdict, across_archive=across_archive)
    head = (
        f'<section class="verdict v-{verdict.verdict}" aria-labelledby="verdict-head">'
        f'<p class="claim">Did <b>{esc(claim.speaker)}</b> say “{esc(claim.quote)}”?</p>'
        f'<h1 id="verdict-head"><span class="badge v-{verdict.verdict}">{esc(_HEADLINES[verdict.verdict])}'
        f'</span> <span class="words">{esc(words)}</span></h1>'
        f'<p class="sub">{esc(" · ".join(facts))}</p><ul class="detail">{"".join(detail)}</ul></section>'
    )
    head += "".join(_chunk_failures(extraction) for extraction, _ in articles[:1] if not across_archive)
    if not articles:
        return head + '<p class="sub">No evidence to show: no article holds words close to the claim.</p>'
    sections = []
    for n, (extraction, shown) in enumerate(articles, 1):
        title = f"Evidence {n}" + (f" of {len(articles)}" if len(articles) > 1 else "")
        heading = ""
        if across_archive:
            ev = shown.evidence
            label = (
                []
                if ev is None
                else [ev.date or "undated", f"here: {_HEADLINES[ev.verdict or shown.verdict]}"]
            )
            heading = (
                f'<h2 class="evhead">{esc(title)}: <a href="{esc(article_path(extraction.id))}">'
                f'{esc(extraction.id)}</a> <span class="sub">{esc(" · ".join(label))}</span>{_link(ev)}</h2>'
            )
        sections.append(
            f'<section class="evidence" aria-label="{esc(title)}">{heading}'
            f"{render.article_html(extraction, [shown], n=n)}</section>"
        )
    more = (
        f'<p class="sub">{_count(more_articles, "more article")} with evidence not shown.</p>'
        if more_articles
        else ""
    )
    order = "<p class=sub>Earliest source first.</p>" if across_archive and len(articles) > 1 else ""
    return head + order + "".join(sections) + more


def _link(evidence: Evidence | None) -> str:
    if evidence is None or not evidence.url or not evidence.url.startswith(("https://", "http://")):
        return ""
    return f' <a class="out" href="{esc(evidence.url)}" rel="noreferrer noopener">original</a>'


def article_path(article_id: str, quote_id: str | None = None) -> str:
    """The article view of an archived article, opened at one statement when `quote_id` is given."""
    path = "/articles/" + quote(article_id, safe="")
    return path + ("?" + urlencode({"quote": quote_id}) if quote_id else "")


# --- search --------------------------------------------------------------------------------------------


def search_results(hits: Sequence[SearchHit], asked: bool, *, by_words: bool = True) -> str:
    """The hits of a search: best first when words were searched for, else newest first."""
    if not asked:
        return '<p class="sub">Search statements by their words, speaker, who they are about and date.</p>'
    if not hits:
        return '<p class="sub" role="status">No statement matches.</p>'
    rows = []
    for hit in hits:
        q = hit.quote
        rows.append(
            '<li class="hit">'
            f'<a class="said" href="{esc(article_path(hit.article_id, q.id))}">'
            f"{esc(render.shorten(q.text, 260))}</a>"
            f'<div class="meta"><b>{esc(_who(q))}</b> · {esc(q.cue or "no cue")} · {esc(q.kind)}'
            f" · {esc(hit.article_id)}{' · ' + esc(hit.date) if hit.date else ''}"
            f"{' · about ' + esc('; '.join(e.name for e in q.about)) if q.about else ''}</div></li>"
        )
    return (
        f'<p class="sub" role="status">{_count(len(hits), "statement")}, '
        f"{'best' if by_words else 'newest'} first</p>"
        f'<ol class="hits">{"".join(rows)}</ol>'
    )
