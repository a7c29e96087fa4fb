"""quotes: who said what about whom, pinned to the characters of the source.

>>> import quotes
>>> extraction = quotes.extract(text)            # doctest: +SKIP
>>> [(q.speaker.name, q.text) for q in extraction.quotes]  # doctest: +SKIP
>>> quotes.verify(text, quotes.Claim(speaker="Rouhani", quote="Iraq stands with Iran"))  # doctest: +SKIP
"""

from quotes.api import aextract, aextract_many, extract, extract_many
from quotes.archive import AddReport, Archive, ArchiveError
from quotes.backends import Backend, ConfigurationError, Provenance, ServerUnavailable, SetupError
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.backends.rules import RulesBackend
from quotes.backends.servers import StructuredOutput
from quotes.pipeline import Extractor, choose_backend
from quotes.schema import (
    Article,
    ChunkError,
    Claim,
    Entity,
    Evidence,
    Extraction,
    Quote,
    SearchHit,
    Speaker,
    Usage,
    Verdict,
)
from quotes.store import ResponseStore, StoreMode
from quotes.verify import Verifier, averify, verify

__all__ = [
    "AddReport",
    "Archive",
    "ArchiveError",
    "Article",
    "Backend",
    "ChunkError",
    "Claim",
    "ConfigurationError",
    "Entity",
    "Evidence",
    "Extraction",
    "Extractor",
    "LLMBackend",
    "LLMConfig",
    "Provenance",
    "Quote",
    "ResponseStore",
    "RulesBackend",
    "SearchHit",
    "ServerUnavailable",
    "SetupError",
    "Speaker",
    "StoreMode",
    "StructuredOutput",
    "Usage",
    "Verdict",
    "Verifier",
    "aextract",
    "aextract_many",
    "averify",
    "choose_backend",
    "extract",
    "extract_many",
    "verify",
]
