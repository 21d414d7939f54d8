"""HTTP for the Platform and IMS calls: requests' transport (``HTTPAdapter``) without a ``Session`` around each call.

Why: a batch-mode run makes about 120 Platform calls from its delivery threads (a batch's create, one upload per
stream's file, complete, status polls), and ``Session.request`` spent more CPU per call around the transport than
the transport itself. Twice a call it scanned every environment variable for proxy settings
(``get_environ_proxies``, about 0.15 ms on this machine), looked for a ``.netrc``, merged cookies, hooks and
headers, and ran the redirect machinery: about 1.5 ms of CPU a call, against 1.0 ms through the adapter (measured
on loopback, ``docs/benchmarks.md``, issue 10, session 8).

What is kept, as ``Session.request`` did it: the same adapter (its connection pools, proxy and SOCKS support, TLS
verification with certifi's bundle, ``Retry(0)``, and requests' exception types, which ``gateway.send_with_retries``
retries on), the same default headers, the environment's proxies (``HTTP(S)_PROXY``, ``NO_PROXY``) and CA bundle
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``), now read once per origin and run instead of twice per call, and
redirects: a 3xx answer with a ``Location`` is followed by a plain ``Session``'s ``resolve_redirects``, as before.

What is left out on purpose: a ``.netrc`` entry for the Platform's host (a ``Session`` would have replaced the
bearer token with its Basic credentials, so every call would have been refused) and a cookie jar (the Platform's
and IMS's APIs authenticate each call by its headers; no call depends on a cookie set by an earlier answer).
"""

from __future__ import annotations

import os
import threading
import typing as t
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict
from requests.utils import default_headers, get_environ_proxies


class PlatformTransport:
    """Sends one HTTP call and returns requests' ``Response`` with its body read; safe to share between threads
    (each thread has its own adapter, so its own connection pool, as each had its own ``Session`` before)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._defaults = default_headers()
        self._environment: dict[str, tuple[dict[str, str], bool | str]] = {}  # origin -> (proxies, verify)
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: t.Mapping[str, str],
        timeout: float,
        data: t.Any = None,
        json: t.Any = None,
        params: t.Any = None,
    ) -> requests.Response:
        """``requests.Session().request(method, url, ...)`` for the arguments the gateway uses."""
        merged = CaseInsensitiveDict(self._defaults)
        merged.update(headers)
        prepared = PreparedRequest()
        prepared.prepare(method=method.upper(), url=url, headers=merged, data=data, json=json, params=params)
        proxies, verify = self._environment_for(url)
        settings: dict[str, t.Any] = {
            "stream": False,
            "timeout": timeout,
            "verify": verify,
            "cert": None,
            "proxies": dict(proxies),
        }
        response = self._adapter().send(prepared, **settings)
        response.content  # noqa: B018  # read whole: the connection goes back to its pool
        if not response.is_redirect:
            return response
        with requests.Session() as session:  # rare: followed as `Session.send` follows it
            history = [response, *session.resolve_redirects(response, prepared, **settings)]
        final = history.pop()
        final.history = history
        return final

    def _adapter(self) -> HTTPAdapter:
        adapter = getattr(self._local, "adapter", None)
        if adapter is None:
            adapter = self._local.adapter = HTTPAdapter()
        return adapter

    def _environment_for(self, url: str) -> tuple[dict[str, str], bool | str]:
        """The proxies and TLS verification the environment sets for ``url``'s origin, as ``Session`` reads them
        (``merge_environment_settings``); read once per origin, since a run's environment does not change."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self._environment.get(origin)
        if found is None:
            proxies = get_environ_proxies(url, no_proxy=None)
            verify: bool | str = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            found = (dict(proxies), verify)
            with self._lock:
                self._environment[origin] = found
        return found
