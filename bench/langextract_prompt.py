"""The quote-extraction task as langextract is taught it: a description and two few-shot examples.

The example texts are invented for this benchmark. Each statement is a `quote` extraction (its words as
written, attributes speaker / kind / cue / quote_id) and each speaker mention a `speaker` extraction
linked to its statement by `quote_id`, so that langextract grounds the mention to characters too.
"""

from __future__ import annotations

import langextract as lx

DESCRIPTION = """\
Find every quotation and reported statement in the news text, in order of appearance.
For each statement give a `quote` extraction with its words exactly as written (never paraphrased):
- direct quotes (all in quotation marks) with their quotation marks; a quote interrupted by its attribution
  ("A," he said. "B.") is ONE extraction running from the first mark to the last;
- indirect and mixed statements (reported in the writer's words, possibly with quoted words) without the
  speaker and the cue.
Attributes: speaker (the speaker's name as written, or null), kind ("direct", "mixed" or "indirect"),
cue (the attributing verb or phrase as written, or null) and quote_id ("q1", "q2", ... in order).
For each statement with a speaker, also give a `speaker` extraction with the words naming the speaker next to
it (a name, title or pronoun), with the attribute quote_id of its statement.
Use exact text from the input; do not report headlines or the writer's own claims."""


def _quote(text: str, qid: str, speaker: str | None, kind: str, cue: str | None) -> lx.data.Extraction:
    return lx.data.Extraction(
        extraction_class="quote",
        extraction_text=text,
        attributes={"quote_id": qid, "speaker": speaker, "kind": kind, "cue": cue},
    )


def _speaker(text: str, qid: str) -> lx.data.Extraction:
    return lx.data.Extraction(extraction_class="speaker", extraction_text=text, attributes={"quote_id": qid})


EXAMPLES = [
    lx.data.ExampleData(
        text=(
            "“The bridge will reopen before the winter,” Transport Secretary Alma Reyes said on Monday. "
            "“We have the steel and we have the crews.”\n\nReyes told the council that the repairs would "
            "cost less than planned. Opposition leader Piet Dahl called the schedule “a fairy tale”."
        ),
        extractions=[
            _quote(
                "“The bridge will reopen before the winter,” Transport Secretary Alma Reyes said on Monday. "
                "“We have the steel and we have the crews.”",
                "q1",
                "Alma Reyes",
                "direct",
                "said",
            ),
            _speaker("Transport Secretary Alma Reyes", "q1"),
            _speaker("Reyes", "q2"),
            _quote("the repairs would cost less than planned", "q2", "Reyes", "indirect", "told"),
            _speaker("Opposition leader Piet Dahl", "q3"),
            _quote("the schedule “a fairy tale”", "q3", "Piet Dahl", "mixed", "called"),
        ],
    ),
    lx.data.ExampleData(
        text=(
            "Flights out of Kessel were cancelled on Thursday. According to the airport authority, fog "
            "had closed both runways.\n\nA pilot waiting at the gate was calm. “We have seen worse,” she "
            "said."
        ),
        extractions=[
            _speaker("the airport authority", "q1"),
            _quote("fog had closed both runways", "q1", "the airport authority", "indirect", "According to"),
            _quote("“We have seen worse,”", "q2", "she", "direct", "said"),
            _speaker("she", "q2"),
        ],
    ),
]
