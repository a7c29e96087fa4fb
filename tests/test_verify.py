"""Claims against articles: supported, misattributed, altered, not found; rules and recorded model."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quotes.api import extract
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.cli import app
from quotes.pipeline import Extractor
from quotes.prompts import PROMPTS_ROOT, PromptError
from quotes.render import diff_text, verdicts_csv
from quotes.schema import Article, ChunkError, Claim, Extraction, Kind, Quote, Speaker, Verdict, VerdictLabel
from quotes.store import ResponseStore
from quotes.testing import Handler, StubReply, StubRequest, StubServer, chat_completion, error_body
from quotes.verify import (
    JUDGE_TASK,
    Verifier,
    averify,
    judge_text,
    load_judge_prompt,
    read_claims,
    verify,
)

Serve = Callable[[Handler], StubServer]

SEED_PATH = Path(__file__).parent.parent / "seeds" / "kadhimi-in-iran.txt"
SEED = Article(id="kadhimi-in-iran", text=SEED_PATH.read_text(encoding="utf-8"))
KADHIMI, ROUHANI, MOEZZI = "Mustafa al-Kadhimi", "Hassan Rouhani", "Alireza Moezzi"
STANDS = "Iraq stands with Iran in its economic crisis"
HONOUR = "honoring Qassem Soleimani and Abu Mahdi al-Muhandis"
TRADE_CLAIM = "Iran wants trade with Iraq to reach $20 billion"


@pytest.fixture(scope="module")
def seed_extraction() -> Extraction:
    return extract(SEED, backend="rules")


def check(extraction: Extraction, *claims: tuple[str, str], article: Article = SEED) -> list[Verdict]:
    verdicts = verify(
        article, [Claim(speaker=s, quote=q) for s, q in claims], extraction=extraction, backend="rules"
    )
    for verdict in verdicts:
        if verdict.evidence is not None:
            assert article.text[verdict.evidence.start : verdict.evidence.end] == verdict.evidence.text
    return verdicts


def labels(verdicts: list[Verdict]) -> list[VerdictLabel]:
    return [v.verdict for v in verdicts]


# --- the seed article with the rules backend -------------------------------------------------------------


def test_swapping_the_two_leaders_words_is_misattribution_naming_the_real_speaker(
    seed_extraction: Extraction,
) -> None:
    swapped = check(seed_extraction, ("Hassan Rouhani", STANDS), ("Kadhimi", HONOUR))
    assert labels(swapped) == ["misattributed", "misattributed"]
    assert [v.actual_speaker for v in swapped] == [KADHIMI, ROUHANI]
    evidence = swapped[0].evidence
    assert evidence is not None
    assert " ".join(evidence.text.split()) == STANDS
    assert evidence.speaker is not None
    assert evidence.speaker.name == KADHIMI
    assert "Mustafa al-Kadhimi" in (swapped[0].explanation or "")
    straight = check(seed_extraction, ("Mustafa al-Kadhimi", STANDS), ("Rouhani", HONOUR))
    assert labels(straight) == ["supported", "supported"]
    assert all(v.score == 100 for v in straight)


def test_a_claim_quoting_part_of_a_statement_is_supported_with_just_those_words(
    seed_extraction: Extraction,
) -> None:
    [verdict] = check(seed_extraction, ("Kadhimi", "foreign relations depend on the principle of balance"))
    assert verdict.verdict == "supported"
    assert verdict.evidence is not None
    assert verdict.evidence.text == "foreign relations depend on\nthe principle of balance"
    statement = next(q for q in seed_extraction.quotes if q.id == verdict.evidence.quote_id)
    assert statement.start < verdict.evidence.start < verdict.evidence.end < statement.end


def test_an_inserted_negation_is_altered_with_a_diff_never_supported(seed_extraction: Extraction) -> None:
    [verdict] = check(seed_extraction, ("Kadhimi", "Iraq does not stand with Iran in its economic crisis"))
    assert verdict.verdict == "altered"
    assert verdict.score > 80  # close wording: the negation, not the similarity, decides
    changed = [op for op in verdict.diff if op.op != "equal"]
    assert any("not" in op.claim.split() and "not" not in op.article.split() for op in changed)
    assert "".join(op.article for op in verdict.diff if op.op == "equal").startswith("Iraq")
    assert verdict.actual_speaker == KADHIMI
    assert "negation" in (verdict.explanation or "")
    assert diff_text(verdict.diff) == "Iraq [-does not stand-] {+stands+} with Iran in its economic crisis"


def test_a_changed_word_is_altered_and_a_wrong_speaker_too_is_misattributed_with_the_diff(
    seed_extraction: Extraction,
) -> None:
    changed, elsewhere = check(
        seed_extraction,
        ("Kadhimi", "Iraq stands with Iran in its financial crisis"),
        ("Ali Khamenei", "politics in Iraq is based on bad faith"),
    )
    assert labels([changed, elsewhere]) == ["altered", "misattributed"]
    assert changed.problems == ["altered"]
    assert [(op.claim, op.article) for op in changed.diff if op.op != "equal"] == [("financial", "economic")]
    # Both problems are reported: the real speaker and the diff; the verdict is the more serious one.
    assert elsewhere.problems == ["misattributed", "altered"]
    assert [(op.claim, op.article) for op in elsewhere.diff if op.op != "equal"] == [
        ("bad faith", "goodwill")
    ]
    assert elsewhere.actual_speaker == KADHIMI
    assert "not to Ali Khamenei" in (elsewhere.explanation or "")
    assert "the wording differs" in (elsewhere.explanation or "")


def test_a_changed_last_word_shows_the_article_s_word_too(seed_extraction: Extraction) -> None:
    [verdict] = check(seed_extraction, ("Kadhimi", "politics in Iraq is based on trust"))
    assert verdict.verdict == "altered"
    assert [(op.op, op.claim, op.article) for op in verdict.diff if op.op != "equal"] == [
        ("replace", "trust", "goodwill")
    ]
    assert verdict.evidence is not None
    assert verdict.evidence.text.endswith("goodwill")
    assert diff_text(verdict.diff) == "politics in Iraq is based on [-trust-] {+goodwill+}"


def test_quotation_marks_apostrophes_case_and_punctuation_do_not_matter(seed_extraction: Extraction) -> None:
    curly = "“Iraq’s foreign relations depend on the principle of balance,”"
    straight = '"iraq\'s foreign relations depend on the principle of balance"'
    spaced = "Iraq's   foreign relations, depend on the principle of balance!"
    verdicts = check(seed_extraction, ("Kadhimi", curly), ("Kadhimi", straight), ("Kadhimi", spaced))
    assert labels(verdicts) == ["supported"] * 3


def test_the_article_s_titles_and_name_parts_resolve_to_the_speaker(seed_extraction: Extraction) -> None:
    trade = "expanding trade relations, combating the corona virus"
    names = ["the Iranian president", "Iranian President Hassan Rouhani", "President Rouhani", "Rouhani"]
    assert labels(check(seed_extraction, *((name, trade) for name in names))) == ["supported"] * 4
    assert labels(check(seed_extraction, ("the Iraqi prime minister", STANDS))) == ["supported"]
    # "the Iranian president's office" employs Moezzi; the title is not his.
    [moezzi] = check(seed_extraction, ("the Iranian president", "changes in Kadhimi's reception ceremony"))
    assert (moezzi.verdict, moezzi.actual_speaker) == ("misattributed", MOEZZI)
    assert labels(
        check(seed_extraction, ("the deputy director", "changes in Kadhimi’s reception ceremony"))
    ) == ["supported"]


def test_missing_words_are_not_found_and_words_attributed_to_no_one_are_unattributed(
    seed_extraction: Extraction,
) -> None:
    absent, unattributed = check(
        seed_extraction,
        ("Kadhimi", "Iraq will leave the oil cartel next spring"),
        ("Kadhimi", "trade between the two countries has declined"),
    )
    assert (absent.verdict, absent.evidence, absent.score) == ("not_found", None, 0.0)
    assert (absent.confidence or 0) > 0.5
    assert unattributed.verdict == "unattributed"
    assert unattributed.evidence is not None
    assert unattributed.evidence.speaker is None
    assert unattributed.evidence.text == "trade between the two countries has declined"
    assert "attributes them to no one" in (unattributed.explanation or "")


def test_rules_judge_a_paraphrase_by_content_words_of_that_speaker_s_statements(
    seed_extraction: Extraction,
) -> None:
    own, other, wrong_figure, new_predicate = check(
        seed_extraction,
        ("Rouhani", TRADE_CLAIM),
        ("Kadhimi", TRADE_CLAIM),
        ("Rouhani", "Iran wants trade with Iraq to reach $50 billion"),
        # Shares "economic crisis" and "Iran" with Kadhimi's statement, but says something else.
        ("Kadhimi", "The economic crisis in Iran is the result of sanctions"),
    )
    assert (own.verdict, own.actual_speaker) == ("supported", ROUHANI)
    assert own.evidence is not None
    assert "$20 billion" in own.evidence.text
    assert "without a model" in (own.explanation or "")
    assert (other.verdict, other.actual_speaker) == ("misattributed", ROUHANI)
    assert wrong_figure.verdict == "not_found"
    assert new_predicate.verdict == "not_found"


def test_every_verdict_carries_the_extraction_s_provenance(seed_extraction: Extraction) -> None:
    [verdict] = check(seed_extraction, ("Rouhani", HONOUR))
    assert (verdict.backend, verdict.prompt, verdict.article_id) == ("rules", None, SEED.id)
    assert verdict.evidence is not None
    assert verdict.evidence.quote_id is not None


def test_a_negation_just_before_a_partial_quote_keeps_it_from_being_supported() -> None:
    text = "“We will not accept that the border stays closed,” Mayor Lena Ortiz said on Friday."
    article = Article(id="border", text=text)
    [verdict] = check(
        extract(article, backend="rules"),
        ("Lena Ortiz", "accept that the border stays closed"),
        article=article,
    )
    assert verdict.verdict == "altered"
    assert [(op.op, op.article) for op in verdict.diff if op.op != "equal"] == [("insert", "not")]


def extraction_of(article: Article, *statements: tuple[str, str, str, Kind]) -> Extraction:
    """A hand-made extraction: (words, speaker name, mention, kind) a statement, located in the article."""
    quotes = []
    for n, (words, name, mention, kind) in enumerate(statements, start=1):
        start = article.text.index(words)
        at = article.text.index(mention)
        speaker = Speaker(name=name, mention=mention, start=at, end=at + len(mention), type="person")
        quotes.append(
            Quote(id=f"q{n}", text=words, start=start, end=start + len(words), kind=kind, speaker=speaker)
        )
    return Extraction(id=article.id, text_sha256=article.sha256, backend="rules", quotes=quotes)


def test_appositive_and_leading_titles_and_pronouns_resolve_to_the_person() -> None:
    article = Article(
        id="grain",
        text="Tomas Brenner, Northland Grain's chief executive, said the offer was final. “We will not "
        "raise it again,” he told reporters. Farm union leader Ada Kern said the offer was an insult.",
    )
    extraction = extraction_of(
        article,
        ("the offer was final", "Tomas Brenner", "Tomas Brenner", "indirect"),
        ("“We will not raise it again,”", "Tomas Brenner", "he", "direct"),
        ("the offer was an insult", "Ada Kern", "Farm union leader Ada Kern", "indirect"),
    )
    verdicts = check(
        extraction,
        ("the chief executive", "the offer was final"),
        ("Brenner", "We will not raise it again"),
        ("the union leader", "the offer was an insult"),
        ("the union leader", "We will not raise it again"),
        ("Northland Grain", "the offer was final"),
        article=article,
    )
    assert labels(verdicts) == ["supported", "supported", "supported", "misattributed", "misattributed"]
    assert verdicts[3].actual_speaker == "Tomas Brenner"
    assert verdicts[1].explanation == "said by Tomas Brenner"  # a pronoun mention is not shown as a name


def test_the_api_takes_plain_text_and_a_single_claim_and_checks_the_extraction_matches() -> None:
    text = "“The bridge is safe,” engineer Sara Quist said."
    [verdict] = verify(text, Claim(speaker="Sara Quist", quote="the bridge is safe"), backend="rules")
    assert verdict.verdict == "supported"
    assert verdict.article_id == "text-0"
    other = extract(Article(id="other", text="Nothing was said."), backend="rules")
    with pytest.raises(ValueError, match="another text"):
        verify(text, Claim(speaker="Sara Quist", quote="safe"), extraction=other)


async def test_averify_is_the_async_form() -> None:
    text = "“The bridge is safe,” engineer Sara Quist said."
    verdicts = await averify(text, [Claim(speaker="Quist", quote="The bridge is safe")], backend="rules")
    assert labels(verdicts) == ["supported"]


# --- claims files ----------------------------------------------------------------------------------------


def test_claims_jsonl_reports_each_bad_line_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    lines = [
        json.dumps({"id": "c1", "speaker": "Rouhani", "quote": HONOUR}),
        "{not json",
        json.dumps({"speaker": "Kadhimi"}),
        "",
        json.dumps(["a list"]),
        json.dumps({"id": 7, "speaker": "Kadhimi", "quote": STANDS}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    claims, problems = read_claims(path)
    assert [(c.id, c.speaker) for c in claims] == [("c1", "Rouhani"), ("7", "Kadhimi")]
    assert [(p.line, p.source) for p in problems] == [(2, str(path)), (3, str(path)), (5, str(path))]
    assert "missing or empty quote" in str(problems[1])
    assert str(problems[0]).startswith(
        f"{path}:2: not valid JSON: expecting property name enclosed in double quotes at column 2"
    )


def test_claims_csv_needs_the_columns_and_reports_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        f'id,speaker,quote\na,Rouhani,"{HONOUR}"\nb,Kadhimi,\nc,Kadhimi,"{STANDS}",extra\nd,Kadhimi,"{STANDS}"\n',
        encoding="utf-8",
    )
    claims, problems = read_claims(path)
    assert [c.id for c in claims] == ["a", "d"]
    assert [(p.line, p.message) for p in problems] == [
        (3, "missing or empty quote"),
        (4, "more fields than the header names"),
    ]
    headless = tmp_path / "headless.csv"
    headless.write_text("who,what\nRouhani,hello\n", encoding="utf-8")
    assert [str(p) for p in read_claims(headless)[1]] == [
        f"{headless}:1: the header lacks column(s) speaker, quote"
    ]
    unknown = tmp_path / "claims.txt"
    unknown.write_text("x", encoding="utf-8")
    assert "use .jsonl or .csv" in str(read_claims(unknown)[1][0])


def test_csv_output_has_one_row_per_verdict(seed_extraction: Extraction) -> None:
    verdicts = check(seed_extraction, ("Rouhani", HONOUR), ("Kadhimi", "Iraq does not stand with Iran"))
    header, *rows = csv.reader(io.StringIO(verdicts_csv(verdicts)))
    assert header[:6] == ["claim_id", "speaker", "quote", "verdict", "confidence", "score"]
    assert [row[3] for row in rows] == ["supported", "altered"]
    assert [float(row[4]) for row in rows] == [v.confidence for v in verdicts]
    assert rows[1][header.index("problems")] == "altered"
    assert rows[1][header.index("diff")] == "Iraq [-does not stand-] {+stands+} with Iran"
    assert rows[1][header.index("evidence_text")] == "Iraq stands with Iran"


# --- the model as judge, through real HTTP to a local stub ------------------------------------------------

EXTRACTED = {
    "quotes": [
        {
            "quote": "“expanding trade relations, combating the corona virus, and efforts to maintain "
            "regional stability,”",
            "speaker": ROUHANI,
            "speaker_mention": "who",
            "speaker_type": "person",
            "kind": "mixed",
            "cue": "said",
            "about": [],
        },
        {
            "quote": "his country's desire to raise the level of bilateral trade relations to about "
            "$20 billion",
            "speaker": ROUHANI,
            "speaker_mention": "who",
            "speaker_type": "person",
            "kind": "indirect",
            "cue": "expressing",
            "about": ["Iraq"],
        },
        {
            "quote": "“honoring Qassem Soleimani and Abu Mahdi al-Muhandis,”",
            "speaker": ROUHANI,
            "speaker_mention": "Rouhani",
            "speaker_type": "person",
            "kind": "direct",
            "cue": "called for",
            "about": ["Qassem Soleimani", "Abu Mahdi al-Muhandis"],
        },
        {
            "quote": "“Iraq stands with Iran in its economic crisis”",
            "speaker": KADHIMI,
            "speaker_mention": "the Iraqi prime minister",
            "speaker_type": "person",
            "kind": "direct",
            "cue": "saying",
            "about": ["Iran"],
        },
    ]
}
TRADE_SENTENCE = (
    "Kadhimi met with Iranian President Hassan Rouhani, who said during a joint conference that they "
    "discussed “expanding trade relations, combating the corona virus, and efforts to maintain regional "
    "stability,” also expressing his country's desire to raise the level of bilateral trade relations to "
    "about $20 billion, as Iraq is one of the main destinations for Iranian non-oil exports."
)
JUDGED = {
    "verdict": "supported",
    "sentence": TRADE_SENTENCE,
    "speaker": ROUHANI,
    "explanation": "Rouhani is reported wanting bilateral trade raised to about $20 billion.",
}


def is_judgement(request: StubRequest) -> bool:
    return "You check claims" in str(request.json["messages"][0]["content"])


def model_handler(judged: Any) -> Handler:
    """Extraction requests get EXTRACTED; judgements get `judged` (a dict, or a list answered in turn)."""
    answers = judged if isinstance(judged, list) else [judged]
    asked: list[int] = []

    def handle(request: StubRequest) -> StubReply:
        if not is_judgement(request):
            return StubReply(json=chat_completion(json.dumps(EXTRACTED)))
        asked.append(request.number)
        answer = answers[min(len(asked), len(answers)) - 1]
        return StubReply(json=chat_completion(answer if isinstance(answer, str) else json.dumps(answer)))

    return handle


def llm_extractor(server: StubServer, store: ResponseStore) -> Extractor:
    config = LLMConfig(model="stub-model", base_url=server.base_url, store=store, max_attempts=1, timeout=5.0)
    return Extractor(LLMBackend(config))


TEN_CLAIMS = [
    Claim(id="indirect", speaker="Rouhani", quote=TRADE_CLAIM),
    Claim(speaker="Rouhani", quote=HONOUR),
    Claim(speaker="Kadhimi", quote=HONOUR),
    Claim(speaker="Kadhimi", quote=STANDS),
    Claim(speaker="Hassan Rouhani", quote=STANDS),
    Claim(speaker="the Iraqi prime minister", quote="Iraq stands with Iran"),
    Claim(speaker="Kadhimi", quote="Iraq does not stand with Iran in its economic crisis"),
    Claim(speaker="the Iranian president", quote="combating the corona virus"),
    Claim(speaker="Rouhani", quote="efforts to maintain regional stability"),
    Claim(speaker="Rouhani", quote="maintain regional instability"),
]


async def test_ten_claims_cost_one_extraction_and_the_model_judges_the_indirect_one(
    serve: Serve, store: ResponseStore
) -> None:
    server = serve(model_handler(JUDGED))
    async with llm_extractor(server, store) as extractor:
        verdicts = await averify(SEED, TEN_CLAIMS, extractor=extractor)
    assert server.request_count == 2  # one extraction, one judgement (for the only claim not found verbatim)
    assert sum(is_judgement(r) for r in server.requests) == 1
    indirect = verdicts[0]
    assert (indirect.verdict, indirect.backend, indirect.prompt) == ("supported", "llm", "verify@v1")
    assert indirect.evidence is not None
    assert SEED.text[indirect.evidence.start : indirect.evidence.end] == indirect.evidence.text
    assert indirect.evidence.text.startswith("Kadhimi met with")
    assert indirect.evidence.text.endswith("exports.")
    assert indirect.evidence.speaker is not None
    assert indirect.evidence.speaker.name == ROUHANI
    assert indirect.actual_speaker == ROUHANI
    assert labels(verdicts[1:]) == [
        "supported",
        "misattributed",
        "supported",
        "misattributed",
        "supported",
        "altered",
        "supported",
        "supported",
        "altered",
    ]
    assert all(v.prompt == "extract@v2" for v in verdicts[1:])
    judged = next(r for r in server.requests if is_judgement(r)).json
    assert judged["messages"][-1]["content"].endswith(judge_text(SEED.text, TEN_CLAIMS[0]) + "")
    assert judged["response_format"]["json_schema"]["schema"]["required"] == [
        "verdict",
        "sentence",
        "speaker",
        "explanation",
    ]

    async with llm_extractor(server, store) as again:
        replayed = await averify(SEED, TEN_CLAIMS, extractor=again)
    assert server.request_count == 2  # the store answered both requests
    assert replayed == verdicts


async def test_a_model_sentence_that_is_not_in_the_article_is_not_evidence(
    serve: Serve, store: ResponseStore
) -> None:
    invented = {**JUDGED, "sentence": "Rouhani said trade with Iraq must reach $20 billion by next year."}
    server = serve(model_handler(invented))
    async with llm_extractor(server, store) as extractor:
        [verdict] = await averify(SEED, TEN_CLAIMS[0], extractor=extractor)
    assert (verdict.verdict, verdict.evidence) == ("not_found", None)
    assert "not evidence" in (verdict.explanation or "")


async def test_an_invalid_judgement_is_re_asked_with_the_validation_error(
    serve: Serve, store: ResponseStore
) -> None:
    server = serve(model_handler(['{"verdict": "probably"}', JUDGED]))
    async with llm_extractor(server, store) as extractor:
        [verdict] = await averify(SEED, TEN_CLAIMS[0], extractor=extractor)
    assert verdict.verdict == "supported"
    reask = [r for r in server.requests if is_judgement(r)][-1].json["messages"][-1]["content"]
    assert reask.startswith("Your previous answer could not be used: verdict")


async def test_a_failed_judgement_falls_back_to_the_rules_and_says_so(
    serve: Serve, store: ResponseStore
) -> None:
    def handle(request: StubRequest) -> StubReply:
        if is_judgement(request):
            return StubReply(400, json=error_body("this model cannot judge"))
        return StubReply(json=chat_completion(json.dumps(EXTRACTED)))

    server = serve(handle)
    async with llm_extractor(server, store) as extractor:
        [verdict] = await averify(SEED, TEN_CLAIMS[0], extractor=extractor)
    assert (verdict.verdict, verdict.backend) == ("supported", "llm")
    assert verdict.prompt == "extract@v2"
    assert (verdict.explanation or "").startswith("the model could not judge this claim (http_4xx")
    assert "without a model" in (verdict.explanation or "")
    # With nothing for the rules to go on either, the answer is unknown, not "not found".
    async with llm_extractor(server, store) as extractor:
        [unknown] = await averify(
            SEED, Claim(speaker="Kadhimi", quote="Iraq will leave the oil cartel"), extractor=extractor
        )
    assert (unknown.verdict, unknown.confidence) == ("could_not_check", None)
    assert "http_4xx" in (unknown.explanation or "")


def test_the_verify_prompt_s_worked_examples_are_checked(tmp_path: Path) -> None:
    prompt = load_judge_prompt()
    assert prompt.ref == f"{JUDGE_TASK}@v1"
    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS_ROOT, root)
    path = root / "verify" / "v1.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"sentence": "She said', '"sentence": "She claimed'),
        encoding="utf-8",
    )
    with pytest.raises(PromptError, match=r"v1\.md: example 1: sentence .* is not verbatim"):
        load_judge_prompt(root=root)


# --- the command -----------------------------------------------------------------------------------------


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["verify", *args], input=stdin)


def test_cli_exit_codes_follow_the_verdicts() -> None:
    seed = str(SEED_PATH)
    supported = run(seed, "--speaker", "Hassan Rouhani", "--quote", HONOUR, "--backend", "rules")
    assert supported.exit_code == 0, supported.output
    assert "supported" in supported.stdout
    swapped = run(seed, "--speaker", "Hassan Rouhani", "--quote", STANDS, "--format", "json")
    assert swapped.exit_code == 1
    [verdict] = json.loads(swapped.stdout)
    assert (verdict["verdict"], verdict["actual_speaker"]) == ("misattributed", KADHIMI)


def test_cli_usage_and_input_errors_exit_2(tmp_path: Path) -> None:
    seed = str(SEED_PATH)
    assert run(seed, "--speaker", "Rouhani").exit_code == 2
    assert run(seed, "--speaker", " ", "--quote", "x").exit_code == 2
    both = run(seed, "--speaker", "Rouhani", "--quote", "x", "--claims", str(tmp_path / "c.jsonl"))
    assert both.exit_code == 2
    missing = run(str(tmp_path / "nowhere.txt"), "--speaker", "Rouhani", "--quote", HONOUR)
    assert missing.exit_code == 2
    assert "nowhere.txt" in missing.stderr


def test_cli_reads_the_article_from_stdin() -> None:
    result = run("-", "-s", "Rouhani", "--quote", HONOUR, "-f", "jsonl", stdin=SEED.text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "supported"


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_cli_claims_file_with_a_broken_line_reports_it_and_checks_the_rest(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"claims.{suffix}"
    if suffix == "jsonl":
        good = [json.dumps({"id": "a", "speaker": "Rouhani", "quote": HONOUR})]
        good.append(json.dumps({"id": "b", "speaker": "Kadhimi", "quote": HONOUR}))
        path.write_text(f"{good[0]}\n{{broken\n{good[1]}\n", encoding="utf-8")
    else:
        path.write_text(f'id,speaker,quote\na,Rouhani,"{HONOUR}"\nbroken,Kadhimi\nb,Kadhimi,"{HONOUR}"\n')
    result = run(str(SEED_PATH), "--claims", str(path), "--format", "jsonl")
    assert result.exit_code == 2
    assert f"{path}:{2 if suffix == 'jsonl' else 3}:" in result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(v["claim"]["id"], v["verdict"]) for v in verdicts] == [
        ("a", "supported"),
        ("b", "misattributed"),
    ]


def test_cli_claims_file_all_good_exits_by_the_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(json.dumps({"speaker": "Rouhani", "quote": HONOUR}) + "\n", encoding="utf-8")
    result = run(str(SEED_PATH), "--claims", str(path), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split(",")[3] == "supported"


def test_cli_reports_a_failed_extraction_on_stderr(tmp_path: Path) -> None:
    result = run(
        str(SEED_PATH),
        *("-s", "Rouhani", "--quote", HONOUR, "--backend", "llm", "--model", "stub-model", "-f", "json"),
        *("--store", str(tmp_path / "empty"), "--offline"),
    )
    assert result.exit_code == 1
    assert "error: extraction failed for characters 0–" in result.stderr
    assert "no stored response" in result.stderr
    [verdict] = json.loads(result.stdout)
    # The words are in the article, but who said them is unknown: no verdict, and no score to mislead.
    assert (verdict["verdict"], verdict["confidence"]) == ("could_not_check", None)
    assert "who said them is unknown" in verdict["explanation"]
    assert "no stored response" in verdict["explanation"]


def test_words_a_spokeswoman_or_supporters_said_are_not_the_named_person_s() -> None:
    article = Article(
        id="county",
        text="“We will win the county,” a spokeswoman for Carla Fenn said. Supporters of Bernard Sandoval "
        "said he would carry the state. The Department of Homeland Security said the count was secure.",
    )
    extraction = extraction_of(
        article,
        (
            "“We will win the county,”",
            "a spokeswoman for Carla Fenn",
            "a spokeswoman for Carla Fenn",
            "direct",
        ),
        (
            "he would carry the state",
            "Supporters of Bernard Sandoval",
            "Supporters of Bernard Sandoval",
            "indirect",
        ),
        (
            "the count was secure",
            "Department of Homeland Security",
            "The Department of Homeland Security",
            "indirect",
        ),
    )
    verdicts = check(
        extraction,
        ("Carla Fenn", "We will win the county"),
        ("Fenn's spokeswoman", "We will win the county"),
        ("Sandoval", "he would carry the state"),
        ("the Department of Homeland Security", "the count was secure"),
        article=article,
    )
    assert labels(verdicts) == ["misattributed", "supported", "misattributed", "supported"]
    assert verdicts[0].actual_speaker == "a spokeswoman for Carla Fenn"


# --- what a difference means ---------------------------------------------------------------------------

HARMLESS = [
    (
        "spelling",
        "“The centre will honour the labour agreement,” Mayor Ada Brink said.",
        "The center will honor the labor agreement",
        "spelling “center” / “centre”; spelling “honor” / “honour”; spelling “labor” / “labour”",
    ),
    (
        "inflection",
        "“We organised the vote,” Mayor Ada Brink said.",
        "We organized the vote",
        "spelling “organized” / “organised”",
    ),
    (
        "compound",
        "“It is a health care crisis,” Mayor Ada Brink said.",
        "It is a healthcare crisis",
        "compound “healthcare” / “health care”",
    ),
    (
        "hyphen",
        "“The co-operative will sign,” Mayor Ada Brink said.",
        "The cooperative will sign",
        "compound “cooperative” / “co-operative”",
    ),
    (
        "figure",
        "“We will hire 1,200 nurses,” Mayor Ada Brink said.",
        "We will hire 1200 nurses",
        "figure “1200” / “1,200”",
    ),
    ("quotes", "“The ‘fair deal’ is dead,” Mayor Ada Brink said.", 'the "fair deal" is dead', None),
    (
        "ellipsis",
        "“The plan, as written, is dead,” Mayor Ada Brink said.",
        "The plan ... is dead",
        "an ellipsis for “as written”",
    ),
    (
        "person",
        "Mayor Ada Brink said her office would reopen on Monday.",
        "my office would reopen on Monday",
        "person shift of reported speech (“my” / “her”)",
    ),
    (
        "tense",
        "Mayor Ada Brink said the bridge would reopen in June.",
        "the bridge will reopen in June",
        "tense shift of reported speech (“will” / “would”)",
    ),
    (
        "person and tense",
        "Mayor Ada Brink said she wanted the bridge rebuilt.",
        "I want the bridge rebuilt",
        "person and tense shift of reported speech (“I” / “she”, “want” / “wanted”)",
    ),
    (
        "agreement",
        "Mayor Ada Brink said she wants the bridge rebuilt.",
        "I want the bridge rebuilt",
        "person shift of reported speech (“I” / “she”)",
    ),
]


@pytest.mark.parametrize(
    ("text", "claim", "variant"), [h[1:] for h in HARMLESS], ids=[h[0] for h in HARMLESS]
)
def test_a_difference_that_changes_no_meaning_is_supported_and_named(
    text: str, claim: str, variant: str | None
) -> None:
    article = Article(id="brink", text=text)
    [verdict] = check(extract(article, backend="rules"), ("Ada Brink", claim), article=article)
    assert (verdict.verdict, verdict.actual_speaker, verdict.problems) == ("supported", "Ada Brink", [])
    assert "; ".join(verdict.variants) == (variant or "")
    assert (variant or "") in (verdict.explanation or "")


MEANINGFUL = [
    (
        "negation",
        "“We will sign the deal,” Mayor Ada Brink said.",
        "We will never sign the deal",
        "a negation",
    ),
    ("number", "“We will hire 1,200 nurses,” Mayor Ada Brink said.", "We will hire 2,100 nurses", "a number"),
    (
        "number word",
        "“We will build two bridges,” Mayor Ada Brink said.",
        "We will build three bridges",
        "a number",
    ),
    (
        "name",
        "“Tom Vance will lead the talks,” Mayor Ada Brink said.",
        "Tom Vale will lead the talks",
        "a name",
    ),
    ("content word", "“The deal is fair,” Mayor Ada Brink said.", "The deal is unfair", "words replaced"),
    (
        "short compound",
        "“They set a part of it aside,” Mayor Ada Brink said.",
        "They set apart of it aside",
        "words replaced",
    ),
    # A pronoun inside the quotation marks is the speaker's own word: changing it changes who is meant.
    ("quoted pronoun", "“He will resign,” Mayor Ada Brink said.", "I will resign", "words replaced"),
    (
        "quoted tense",
        "“The bridge would reopen,” Mayor Ada Brink said.",
        "The bridge will reopen",
        "words replaced",
    ),
    # Reported speech moves a tense back, never forward: the claim's past is not the article's future.
    (
        "tense forward",
        "Mayor Ada Brink said the bridge will reopen.",
        "the bridge would reopen",
        "words replaced",
    ),
]


@pytest.mark.parametrize(
    ("text", "claim", "change"), [m[1:] for m in MEANINGFUL], ids=[m[0] for m in MEANINGFUL]
)
def test_negations_numbers_names_and_content_words_stay_altered(text: str, claim: str, change: str) -> None:
    article = Article(id="brink", text=text)
    [verdict] = check(extract(article, backend="rules"), ("Ada Brink", claim), article=article)
    assert (verdict.verdict, verdict.problems, verdict.variants) == ("altered", ["altered"], [])
    assert f"the wording differs: {change}" in (verdict.explanation or "")
    assert any(op.op != "equal" for op in verdict.diff)


# --- confidence and failed extractions ---------------------------------------------------------------------


def test_confidence_orders_exact_words_above_variants_and_altered_words(seed_extraction: Extraction) -> None:
    exact, variant, altered = check(
        seed_extraction,
        ("Kadhimi", STANDS),
        ("Kadhimi", "IRAQ STANDS WITH IRAN IN ITS ECONOMIC CRISIS"),
        ("Kadhimi", "Iraq stands with Iran in its financial crisis"),
    )
    assert labels([exact, variant, altered]) == ["supported", "supported", "altered"]
    assert (exact.confidence or 0) > (variant.confidence or 0) > (altered.confidence or 0) > 0


def test_a_failed_chunk_makes_its_words_could_not_check_and_leaves_the_rest_judged() -> None:
    text = "“The ferry runs again on Monday,” harbour master Lin Oduya said. The tolls will rise in May."
    article = Article(id="ferry", text=text)
    extraction = extract(article, backend="rules")
    failed = text.index("The tolls")
    broken = extraction.model_copy(
        update={
            "errors": [ChunkError(chunk=1, start=failed, end=len(text), kind="timeout", message="no answer")]
        }
    )
    judged, unknown, absent = check(
        broken,
        ("Lin Oduya", "The ferry runs again on Monday"),
        ("Lin Oduya", "The tolls will rise in May"),
        ("Lin Oduya", "the bridge will close for a year"),
        article=article,
    )
    assert labels([judged, unknown, absent]) == ["supported", "could_not_check", "could_not_check"]
    assert (unknown.confidence, absent.confidence) == (None, None)
    assert unknown.evidence is not None
    assert unknown.evidence.text == "The tolls will rise in May"
    assert f"characters {failed}–{len(text)} failed (timeout: no answer)" in (unknown.explanation or "")
    assert "could be where the extraction failed" in (absent.explanation or "")
    # Without the failure the same words are the article's, given to no one.
    assert labels(check(extraction, ("Lin Oduya", "The tolls will rise in May"), article=article)) == [
        "unattributed"
    ]


def test_a_verifier_is_built_once_per_article_and_judges_any_number_of_claims(
    seed_extraction: Extraction,
) -> None:
    verifier = Verifier(SEED, seed_extraction)
    first = asyncio.run(verifier.check(Claim(speaker="Rouhani", quote=HONOUR)))
    assert first == verify(SEED, Claim(speaker="Rouhani", quote=HONOUR), extraction=seed_extraction)[0]
    other = extract(Article(id="other", text="Nothing was said."), backend="rules")
    with pytest.raises(ValueError, match="another text"):
        Verifier(SEED, other)


def test_a_role_ending_in_another_speaker_s_name_does_not_pass_that_name_off_as_this_speaker() -> None:
    article = Article(
        id="pier",
        text="“The pier reopens in June,” Mayor Ada Brink said. “It will not,” union leader Ann Vey said.",
    )
    extraction = extraction_of(
        article,
        ("“The pier reopens in June,”", "Ada Brink", "Mayor Ada Brink", "direct"),
        ("“It will not,”", "Ann Vey", "union leader Ann Vey", "direct"),
    )
    # An extractor's slip: a role that swallowed the next speaker's name.
    extraction.quotes[0].speaker.role = "said Ann Vey"
    [verdict] = check(extraction, ("Vey", "The pier reopens in June"), article=article)
    assert (verdict.verdict, verdict.actual_speaker) == ("misattributed", "Ada Brink")
