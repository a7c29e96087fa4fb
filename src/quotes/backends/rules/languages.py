"""Languages other than English: which language a text is in, and its direct quotations and speakers.

English has the full statement finder (statements.py). For every other language with a data file in
`lang/` this module finds direct quotations by the language's quotation marks and the cue verb next to
them, with the speaker named before the cue ("Jean Dupont a déclaré : « … »"), after it ("« … », a
déclaré Jean Dupont") or, when the sentence leaves the subject out or names it by a pronoun ("« … »,
a-t-il dit", "«…», dijo"), the person named last before the quotation. Chinese and Japanese, written
without spaces, take the run of characters between the last punctuation mark and the cue as the
speaker.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from quotes.backends.rules.lexicon import LANG_PACKAGE, language_data, trie_pattern, words
from quotes.backends.rules.scanning import Span

# Scripts that tell a language (or a language family) on their own, checked before any word counting.
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_SCRIPTS = (
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
_LATIN_WORD_RE = re.compile(r"[^\W\d_]+")
# a letter of no Latin alphabet (Latin, its supplements and extensions end at U+024F)
_NOT_LATIN_RE = re.compile(r"[^\W\d_\u0000-\u024f]")
_SAMPLE = 1500  # characters: enough to tell a language, and detection stays cheap on long articles
_CJK = ("zh", "ja")


@cache
def languages_with_rules() -> tuple[str, ...]:
    """The codes of every language with a data file, English first."""
    codes = sorted(
        entry.name.removesuffix(".toml")
        for entry in files(LANG_PACKAGE).iterdir()
        if entry.name.endswith(".toml")
    )
    return ("en", *(code for code in codes if code != "en"))


@cache
def _stopwords() -> dict[str, frozenset[str]]:
    return {
        code: frozenset(words(language_data(code)["words"]["stopwords"]))
        for code in languages_with_rules()
        if code not in _CJK
    }


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language `text` is most likely written in.

    Scripts decide first (kana: Japanese; Han without kana: Chinese; Hangul, Cyrillic, Arabic, Hebrew,
    Greek, Devanagari, Thai: a code this backend has no rules for); Latin-script text goes to the
    language whose frequent words it uses most, English when none stands out."""
    sample = text[:_SAMPLE]
    foreign = _NOT_LATIN_RE.findall(sample)
    if len(foreign) > len(sample) / 8:
        # enough letters outside the Latin script to tell the language by its script alone
        letters = "".join(foreign)
        if _KANA_RE.search(letters):
            return "ja"
        if len(_HAN_RE.findall(letters)) > len(letters) / 2:
            return "zh"
        for code, script in _SCRIPTS:
            if len(script.findall(letters)) > len(letters) / 2:
                return code
    counts = Counter(_LATIN_WORD_RE.findall(sample.lower()))
    scores = {code: sum(counts[w] for w in counts.keys() & stop) for code, stop in _stopwords().items()}
    best = max(scores, key=lambda code: scores[code])
    return best if scores[best] > scores["en"] else "en"


@dataclass(frozen=True)
class DirectQuote:
    """A quotation found by its marks: `quote` includes them; `speaker` is None when the text names no
    one near it (the speaker is then `name`, the person named last before it, if any)."""

    quote: Span
    cue: Span
    speaker: Span | None
    name: str | None
    role: str | None


@dataclass(frozen=True)
class _Language:
    code: str
    quote_re: re.Pattern[str]
    cue_after_re: re.Pattern[str]
    cue_before_re: re.Pattern[str]
    name_re: re.Pattern[str]


_LATIN_NAME = (
    r"(?:[A-ZÀ-ÖØ-Þ][\w’'-]+(?:[ \t\u00a0]+(?:(?:de|da|do|dos|das|del|della|di|van|von|der|den|le|la|du)"
    r"[ \t\u00a0]+)?[A-ZÀ-ÖØ-Þ][\w’'-]+)*)"
)
_SP = r"[ \t\u00a0\u202f]"  # a space, a no-break space or French typography's narrow one
_CJK_NAME = r"(?:[^\s，。；：、“”「」『』,.;:!?！？（）()]{1,15}?)"
_JA_TOPIC = r"(?:は|が)"


def _cue_forms(cues: dict[str, str]) -> list[str]:
    """The cues as written, and with an inverted pronoun inside them where the language puts one there:
    "a-t-il déclaré", "déclare-t-elle" (French), "fügte sie hinzu" (German)."""
    forms = words(cues["verbs"])
    joiner = cues.get("inversion_joiner")
    if joiner is None:
        return forms
    inverted = []
    for form in forms:
        head, _, rest = form.partition(" ")
        if rest or joiner.strip():
            inverted += [f"{head}{joiner}{p} {rest}".rstrip() for p in words(cues["inverted_pronouns"])]
    return forms + inverted


@cache
def _language(code: str) -> _Language:
    data = language_data(code)
    pairs: list[str] = data["quotes"]["pairs"]
    quote_re = re.compile(
        "|".join(
            re.escape(pair[0]) + r"[^" + re.escape(pair[0] + pair[1]) + r"\n]{1,3000}?" + re.escape(pair[1])
            for pair in pairs
        )
    )
    cues = trie_pattern(_cue_forms(data["cues"]))
    pronouns = "|".join(re.escape(p) for p in words(data["words"]["pronouns"])) or "(?!)"
    if code == "zh":
        speaker = rf"(?P<speaker>{_CJK_NAME})"
        after = rf"[，,。]?\s*{speaker}(?P<cue>{cues})"
        before = rf"{speaker}(?P<cue>{cues})[：:，,]?\s*$"
        name = _CJK_NAME
    elif code == "ja":
        speaker = rf"(?P<speaker>{_CJK_NAME}){_JA_TOPIC}"
        after = rf"と(?:{speaker})?(?P<cue>{cues})"
        before = rf"{speaker}$"
        name = _CJK_NAME
    else:
        title = rf"(?:(?:[a-zà-öø-ÿ]+{_SP}+){{0,3}})"
        subject = rf"{title}{_LATIN_NAME}|{pronouns}"
        # « … », a déclaré Jean Dupont / « … », a-t-il déclaré / „…“, sagte sie / «…», dijo. / », Ana dijo
        after = (
            rf"{_SP}*[,.]?{_SP}*(?:(?P<cue>{cues})(?:{_SP}+(?P<speaker>{subject}))?"
            rf"|(?P<speaker2>{subject}){_SP}+(?P<cue2>{cues}))(?=[\s,.;:!?]|$)"
        )
        before = rf"(?P<speaker>{subject}){_SP}+(?:[\w’'-]+{_SP}+){{0,4}}?(?P<cue>{cues}){_SP}*[:,]?{_SP}*$"
        name = _LATIN_NAME
    return _Language(code, quote_re, re.compile(after), re.compile(before), re.compile(name))


def direct_quotes(text: str, code: str) -> list[DirectQuote]:
    """Every quotation in `text` that a cue of language `code` attributes, in text order."""
    language = _language(code)
    found: list[DirectQuote] = []
    end = 0
    for match in language.quote_re.finditer(text):
        if match.start() < end:
            continue  # nested in the quotation before
        end = match.end()
        if len(match.group()) < 4:
            continue
        attribution = _attribution(text, match.start(), match.end(), language)
        if attribution is None:
            continue
        cue, speaker = attribution
        if speaker is not None and language.code == "zh":
            speaker = _zh_subject(text, speaker)
        mention = text[speaker[0] : speaker[1]] if speaker else ""
        name, role = split_title(mention, code)
        if name is None or mention.lower() in _pronouns(code) or mention[:1] in _pronouns(code):
            # a pronoun or a left-out subject: the speaker of the quotation before, or the person named last
            previous = found[-1].name if found else None
            name = previous or _named_before(text, match.start(), language)
        if name is not None and " " not in name and language.code not in _CJK:
            # "dijo García": the full name the article gave García before
            name = _named_before(text, match.start(), language, surname=name) or name
        found.append(DirectQuote((match.start(), match.end()), cue, speaker, name, role))
    return found


def _attribution(text: str, start: int, end: int, language: _Language) -> tuple[Span, Span | None] | None:
    """The cue and speaker of the quotation at [start, end): after it, or before it (first when a colon
    introduces it: "Marie Lefèvre a déclaré : « … »")."""
    introduced = text[max(0, start - 3) : start].rstrip(" \t\u00a0\u202f")[-1:] in ":："
    if introduced and language.code != "ja" and (before := _before(text, start, language)):
        return before
    after = _after(text, end, language)
    if after is not None and after[1] is None and language.code == "ja":
        # 山田首相は「…」と述べた: the cue after the quotation, its subject before it
        return after[0], _subject_before(text, start, language)
    if after is None and language.code != "ja":
        return _before(text, start, language)
    return after


def split_title(mention: str, code: str) -> tuple[str | None, str | None]:
    """The name and the role in a speaker's words: "le président Jean Dupont" → ("Jean Dupont", "président");
    (None, None) when no name is left."""
    data = language_data(code)["words"]
    skip = {w.lower() for w in words(data.get("determiners", ""))}
    titles = {w.lower() for w in words(data.get("titles", ""))}
    parts = mention.split()
    k = 0
    role: list[str] = []
    while k < len(parts) - 1 and (
        parts[k].lower() in skip or parts[k].lower() in titles or parts[k].islower()
    ):
        if parts[k].lower() not in skip:
            role.append(parts[k])
        k += 1
    name = " ".join(parts[k:]) or None
    return name, " ".join(role) or None


_ZH_ASIDE_RE = re.compile(r"(?<=..)(?:在|于|对|向|今天|昨天|日前|还|也|则|又)")


def _zh_subject(text: str, span: Span) -> Span:
    """ "外交部发言人王明在记者会上": the subject ends where an aside of place, time or manner begins."""
    aside = _ZH_ASIDE_RE.search(text, span[0], span[1])
    return (span[0], aside.start()) if aside else span


def _after(text: str, end: int, language: _Language) -> tuple[Span, Span | None] | None:
    match = language.cue_after_re.match(text, end, min(len(text), end + 120))
    if match is None:
        return None
    groups = match.groupdict()
    cue = "cue" if groups["cue"] else "cue2"
    who = "speaker" if groups.get("speaker") else "speaker2" if groups.get("speaker2") else None
    speaker = (match.start(who), match.end(who)) if who else None
    return (match.start(cue), match.end(cue)), speaker


def _sentence_start(text: str, start: int) -> int:
    line_start = max(text.rfind("\n", 0, start) + 1, start - 160)
    for stop in ".!?。！？":
        line_start = max(line_start, text.rfind(stop, line_start, start) + 1)
    return line_start


def _before(text: str, start: int, language: _Language) -> tuple[Span, Span | None] | None:
    match = language.cue_before_re.search(text, _sentence_start(text, start), start)
    if match is None:
        return None
    return (match.start("cue"), match.end("cue")), (match.start("speaker"), match.end("speaker"))


def _subject_before(text: str, start: int, language: _Language) -> Span | None:
    match = language.cue_before_re.search(text, _sentence_start(text, start), start)
    return None if match is None else (match.start("speaker"), match.end("speaker"))


@cache
def _pronouns(code: str) -> frozenset[str]:
    return frozenset(words(language_data(code)["words"]["pronouns"]))


def _named_before(text: str, start: int, language: _Language, surname: str | None = None) -> str | None:
    """The person named last before `start` (with `surname`, the last one of that surname): who a pronoun
    or a left-out subject most likely means."""
    if language.code in _CJK:
        return None
    last = None
    for match in language.name_re.finditer(text, max(0, start - 1500), start):
        parts = match.group().split()
        if len(parts) > 1 and (surname is None or parts[-1] == surname):
            last = " ".join(parts)
    return last
