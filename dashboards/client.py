"""The dashboard's one client of the REST API (httpx): a bearer token per session, clear errors."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An API call that did not succeed: the status and the API's ``detail``."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


class ApiClient:
    """Calls ``/api/v1`` of a ``bess-twin serve`` with the session's token.

    Parameters
    ----------
    base_url : str
        e.g. ``http://127.0.0.1:8000``.
    token : str, optional
        Bearer token from :meth:`login`.
    timeout_s : float
        Per-request timeout. [s]
    """

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url, self.token, self.timeout_s = base_url.rstrip("/"), token, timeout_s

    def login(self, username: str, password: str) -> str:
        """Exchange user name and password for a token (kept by the caller in the session, never in a URL).

        Raises
        ------
        ApiError
            401 on a wrong user or password, 429 after too many attempts.
        """
        r = httpx.post(f"{self.base_url}/api/v1/auth/token", data={"username": username, "password": password}, timeout=self.timeout_s)
        if r.status_code != 200:
            raise ApiError(r.status_code, _detail(r))
        self.token = r.json()["access_token"]
        return self.token

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        """One call; the decoded JSON body.

        Raises
        ------
        ApiError
            On any status >= 400 or when the server cannot be reached (status 0).
        """
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            r = httpx.request(method, f"{self.base_url}/api/v1{path}", params=params, json=json, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as err:
            raise ApiError(0, f"cannot reach the API at {self.base_url}: {err}") from None
        if r.status_code >= 400:
            raise ApiError(r.status_code, _detail(r))
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.content

    def get(self, path: str, **params: Any) -> Any:
        """GET ``/api/v1{path}``."""
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        """POST ``/api/v1{path}`` with a JSON body."""
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        """PUT ``/api/v1{path}`` with a JSON body."""
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        """DELETE ``/api/v1{path}``."""
        return self.request("DELETE", path)


def _detail(r: httpx.Response) -> Any:
    try:
        return r.json().get("detail", r.text)
    except ValueError:
        return r.text
