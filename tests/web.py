"""The tests' HTTP requests: httpx's get and post with a patient timeout. A loaded 2-core CI machine
(two pytest-xdist workers, a browser and a review server sharing it) can take longer than httpx's
default 5 s to answer, and a timeout there says nothing about the behaviour under test."""
from __future__ import annotations

import httpx

TIMEOUT = 60.0


def get(url: str, **kwargs) -> httpx.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return httpx.get(url, **kwargs)


def post(url: str, **kwargs) -> httpx.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return httpx.post(url, **kwargs)
