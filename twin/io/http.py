"""One HTTP session for every download and feed: retries with back-off, one error path.

``requests`` with urllib3's ``Retry`` (the library's own retry machinery):
connection errors, read errors and the answers 429, 500, 502, 503 and 504 are
retried up to ``retries`` times with exponential back-off
(``backoff_factor * 2**(n-1)`` seconds, capped at ``backoff_max_s``), honouring
a server's ``Retry-After``. Everything that still fails becomes one
:class:`~twin.errors.DataError` naming the source, the URL and the parameters.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from twin.errors import DataError

TIMEOUT_S = 30.0
"""Connect and read timeout of one request. [s]"""

RETRY_STATUS = (429, 500, 502, 503, 504)
"""HTTP answers that are retried (rate limited, server or gateway trouble)."""


class HttpSession(Protocol):
    """What the downloaders need of ``requests.Session`` (tests pass recorded answers)."""

    def get(self, url: str, *, params: dict[str, Any], timeout: float) -> Any:
        """Send a GET request; the answer has ``raise_for_status()`` and ``json()``."""
        ...


def make_session(
    retries: int = 4, backoff_factor: float = 1.0, backoff_max_s: float = 60.0
) -> requests.Session:
    """A ``requests.Session`` that retries GETs with exponential back-off.

    Parameters
    ----------
    retries : int
        Retries after the first attempt.
    backoff_factor : float
        First back-off; doubled with every retry. [s]
    backoff_max_s : float
        Longest back-off. [s]

    Returns
    -------
    requests.Session
        With the retrying adapter mounted for ``http://`` and ``https://``.
    """
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_factor,
        backoff_max=backoff_max_s,
        status_forcelist=RETRY_STATUS,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "bess-twin"
    return session


def get_json(session: HttpSession, source: str, url: str, params: dict[str, Any]) -> Any:
    """GET ``url`` and decode its JSON answer.

    Parameters
    ----------
    session : HttpSession
        Usually :func:`make_session`'s.
    source : str
        Name of the data source, for the message (``energy_charts``, ``awattar``).
    url : str
    params : dict
        Query parameters.

    Returns
    -------
    Any
        The decoded JSON document.

    Raises
    ------
    DataError
        If the request fails after the session's retries, the answer is an HTTP
        error, or the body is not JSON.
    """
    try:
        answer = session.get(url, params=params, timeout=TIMEOUT_S)
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as err:
        raise DataError(f"{source}: request {url} {params} failed: {err}") from err
