"""The rules backend on other languages: direct quotations and their speakers, the language detected or
given, and one line when a language has no rules. Every sentence is invented."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import quotes
from quotes.backends.rules import (
    RulesBackend,
    detect_language,
    extract_quotes,
    language_note,
    languages_with_rules,
)
from quotes.chunking import Chunk
from quotes.cli import app

CASES = {
    "fr": (
        "Le maire Paul Girard a visité le chantier mardi. « Nous ne céderons pas », a déclaré Paul Girard "
        "devant les habitants. « La route rouvrira en juin », a-t-il ajouté.\n\n"
        "Claire Vasseur a déclaré : « Le projet est mort et nous le savons tous. »",
        [
            ("« Nous ne céderons pas »", "Paul Girard", "a déclaré"),
            ("« La route rouvrira en juin »", "Paul Girard", "a-t-il ajouté"),
            ("« Le projet est mort et nous le savons tous. »", "Claire Vasseur", "a déclaré"),
        ],
    ),
    "de": (
        "Die Ministerin Anna Kessler besuchte am Montag das Werk. „Wir werden die Arbeitsplätze sichern“, "
        "sagte Anna Kessler. „Das ist unser Ziel“, fügte sie hinzu.\n\n"
        "Der Bürgermeister Karl Brandt sagte: „Die Brücke bleibt bis Juni gesperrt.“",
        [
            ("„Wir werden die Arbeitsplätze sichern“", "Anna Kessler", "sagte"),
            ("„Das ist unser Ziel“", "Anna Kessler", "fügte sie hinzu"),
            ("„Die Brücke bleibt bis Juni gesperrt.“", "Karl Brandt", "sagte"),
        ],
    ),
    "es": (
        "La alcaldesa Ana Robles visitó el barrio el lunes. «Vamos a reconstruir cada casa», dijo Robles. "
        "«No es una promesa vacía», añadió.",
        [
            ("«Vamos a reconstruir cada casa»", "Ana Robles", "dijo"),
            ("«No es una promesa vacía»", "Ana Robles", "añadió"),
        ],
    ),
    "pt": (
        "O ministro João Farias falou aos jornalistas na sexta-feira. “Não vamos aumentar os impostos”, "
        "disse João Farias. “As contas estão em ordem”, garantiu ele.",
        [
            ("“Não vamos aumentar os impostos”", "João Farias", "disse"),
            ("“As contas estão em ordem”", "João Farias", "garantiu"),
        ],
    ),
    "it": (
        "Il sindaco Marco Benassi ha parlato ai cittadini della piazza. «La piazza sarà pronta a maggio», "
        "ha detto Marco Benassi. «Non ci saranno ritardi», ha aggiunto.",
        [
            ("«La piazza sarà pronta a maggio»", "Marco Benassi", "ha detto"),
            ("«Non ci saranno ritardi»", "Marco Benassi", "ha aggiunto"),
        ],
    ),
    "zh": (
        "市政府发言人李华在记者会上说：“新桥将在六月通车。”他还表示，“工程没有延误。”",
        [
            ("“新桥将在六月通车。”", "市政府发言人李华", "说"),
            ("“工程没有延误。”", "市政府发言人李华", "表示"),
        ],
    ),
    "ja": (
        "山本市長は「新しい橋は六月に開通する」と述べた。「工事は遅れていない」と佐藤部長は語った。",
        [
            ("「新しい橋は六月に開通する」", "山本市長", "述べた"),
            ("「工事は遅れていない」", "佐藤部長", "語った"),
        ],
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_direct_quotations_and_speakers_in_each_language(code: str) -> None:
    text, expected = CASES[code]
    assert detect_language(text) == code
    found = extract_quotes(text)
    assert [(q.text, q.speaker.name, q.cue) for q in found] == expected
    for quote in found:
        assert quote.kind == "direct"
        assert text[quote.start : quote.end] == quote.text
        assert quote.cue_start is not None
        assert text[quote.cue_start : quote.cue_end] == quote.cue
        if quote.speaker.start is not None:
            assert text[quote.speaker.start : quote.speaker.end] == quote.speaker.mention


def test_french_quotation_marks_with_narrow_no_break_spaces() -> None:
    text = "Claire Vasseur a affirmé\u202f: «\u202fLe budget est tenu.\u202f»"
    [quote] = extract_quotes(text, "fr")
    assert (quote.text, quote.speaker.name) == ("«\u202fLe budget est tenu.\u202f»", "Claire Vasseur")


def test_a_title_before_the_name_is_the_role() -> None:
    text, _ = CASES["de"]
    third = extract_quotes(text)[2]
    assert (third.speaker.name, third.speaker.role) == ("Karl Brandt", "Bürgermeister")


def test_english_is_detected_and_keeps_every_kind() -> None:
    text = "Ana Ruiz said the plan had failed. “We will try again,” she added."
    assert detect_language(text) == "en"
    assert {q.kind for q in extract_quotes(text)} == {"indirect", "direct"}


def test_the_language_can_be_given() -> None:
    text, expected = CASES["es"]
    assert [q.text for q in extract_quotes(text, "es")] == [e[0] for e in expected]
    assert extract_quotes(text, "ko") == []


def test_a_language_without_rules_finds_nothing_and_says_so_in_one_line() -> None:
    text = "Президент заявил журналистам: «Страна готова к переговорам»."
    assert detect_language(text) == "ru"
    assert extract_quotes(text) == []
    note = language_note(text)
    assert note is not None
    assert "'ru' has no rules" in note
    assert "\n" not in note
    assert language_note(CASES["fr"][0]) is None
    assert set(CASES) | {"en"} <= set(languages_with_rules())


async def test_the_backend_puts_the_note_in_the_extractions_warnings() -> None:
    text = "Президент заявил журналистам: «Страна готова к переговорам»."
    answer = await RulesBackend().extract_chunk(Chunk(0, 0, len(text), text))
    assert answer.quotes == []
    assert len(answer.warnings) == 1
    extraction = await quotes.aextract(text, backend="rules")
    assert extraction.warnings == answer.warnings


async def test_a_fixed_language_overrides_detection() -> None:
    text, expected = CASES["it"]
    answer = await RulesBackend("it").extract_chunk(Chunk(0, 0, len(text), text))
    assert [q.text for q in answer.quotes] == [e[0] for e in expected]
    answer = await RulesBackend("ru").extract_chunk(Chunk(0, 0, len(text), text))
    assert answer.quotes == []
    assert answer.warnings


def test_cli_lang_option(tmp_path: Path) -> None:
    runner = CliRunner()
    article = tmp_path / "article.txt"
    article.write_text(CASES["pt"][0], encoding="utf-8")
    result = runner.invoke(
        app, ["extract", str(article), "--backend", "rules", "--lang", "pt", "-f", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    assert "language pt" in result.stderr
    result = runner.invoke(
        app, ["extract", str(article), "--backend", "rules", "--lang", "ru", "-f", "jsonl"]
    )
    assert result.exit_code == 0
    assert "language 'ru' has no rules" in result.stderr
    result = runner.invoke(app, ["extract", str(article), "--backend", "rules", "--lang", "portuguese"])
    assert result.exit_code == 2
    assert "two-letter" in result.stderr
