"""`quotes serve`: a web page for fact-checkers and an HTTP API, over the same core as the CLI.

Needs the `serve` extra (`pip install 'quotes[serve]'`: FastAPI, uvicorn, python-multipart).

>>> from quotes.serve import Service, create_app  # doctest: +SKIP
>>> extractor, line = quotes.workers.ExtractorRecipe("rules").build()  # doctest: +SKIP
>>> app = create_app(Service(extractor, backend_line=line))  # doctest: +SKIP
"""

from quotes.serve.app import create_app
from quotes.serve.service import Limits, Service

__all__ = ["Limits", "Service", "create_app"]
