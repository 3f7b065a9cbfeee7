"""The review server's errors, mapped to HTTP answers by the app."""


class ReviewError(Exception):
    """The review server cannot start; the message says why."""


class BadRequest(Exception):
    """A request the page cannot serve (400); the message says what was wrong."""


class NotFound(Exception):
    """No such pair or document (404)."""


class Forbidden(Exception):
    """Missing or wrong CSRF token (403)."""


class ReadOnly(Exception):
    """The store cannot be written (503); the message says so."""
