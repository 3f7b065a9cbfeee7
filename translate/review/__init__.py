"""Human review of stored pairs: a small local web app (``app``) over the store, with its reads
(``queries``), its writes (``decisions``), the plain-words reasons for a score (``explain``) and the stats
page's charts (``charts``)."""
from .app import create_app, review_url, serve
from .errors import ReviewError

__all__ = ["ReviewError", "create_app", "review_url", "serve"]
