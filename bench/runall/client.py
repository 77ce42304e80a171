"""HTTP clients of the servers under test: one-off GETs and a keep-alive client."""

from __future__ import annotations

import http.client
import time
import urllib.parse


def http_get(base: str, path: str, headers: dict | None = None, timeout: float = 60):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


class Client:
    """One client on one keep-alive connection (reconnecting when the server closes it)."""

    def __init__(self, base: str, token: str | None = None, timeout: float = 120) -> None:
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, float, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=self.headers)
                r = self.conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    return -1, (time.perf_counter() - t0) * 1000, b""
                continue
            ms = (time.perf_counter() - t0) * 1000
            if r.will_close:
                self.conn.close()
                self.conn = None
            return r.status, ms, body
        raise AssertionError

    def close(self) -> None:
        if self.conn:
            self.conn.close()
            self.conn = None
