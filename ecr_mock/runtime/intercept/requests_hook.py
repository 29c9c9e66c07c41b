"""In-process registry: ``requests`` calls to ECR registry hosts and ``public.ecr.aws`` are served
by the /v2/ app."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from ecr_mock.domain.names import REGISTRY_HOST_RE
from ecr_mock.protocols.wsgi import DISCONNECT_AFTER_BYTES

BackendGetter = Callable[[], Any]
_lock = threading.Lock()
_state: dict[str, Any] = {"original": None, "getter": None, "finder": None}
_APPS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The registry app of each backend served, made on its first request."""


def install(getter: BackendGetter) -> None:
    """Route registry-host requests to the backend ``getter()`` returns (None: pass through).

    ``requests`` is patched now when it is imported, otherwise as soon as it is, so a process
    that never uses it does not pay for importing it.
    """
    with _lock:
        _state["getter"] = getter
        if "requests.adapters" in sys.modules:
            _patch(sys.modules["requests.adapters"])
        elif _state["finder"] is None:
            finder = _ImportWatcher()
            _state["finder"] = finder
            sys.meta_path.insert(0, finder)


def uninstall() -> None:
    """Restore ``requests`` and stop watching imports."""
    with _lock:
        finder = _state["finder"]
        if finder is not None and finder in sys.meta_path:
            sys.meta_path.remove(finder)
        _state["finder"] = None
        original = _state["original"]
        if original is not None:
            adapters = sys.modules.get("requests.adapters")
            if adapters is not None:
                adapters.HTTPAdapter.send = original
            _state["original"] = None


def _patch(adapters: ModuleType) -> None:
    if _state["original"] is not None:
        return
    _state["original"] = adapters.HTTPAdapter.send
    adapters.HTTPAdapter.send = _send


PUBLIC_HOST = "public.ecr.aws"


def _is_registry_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").rstrip(".")
    return host == PUBLIC_HOST or REGISTRY_HOST_RE.fullmatch(host) is not None


def _send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
    getter = _state["getter"]
    backend = getter() if getter is not None else None
    original = _state["original"]
    if backend is None or not _is_registry_url(request.url):
        return original(self, request, *args, **kwargs)
    return _serve(backend, request)


def _serve(backend: Any, request: Any) -> Any:
    import requests
    from requests.structures import CaseInsensitiveDict
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from ecr_mock.protocols.registry.app import RegistryApp

    app = _APPS.get(backend)
    if app is None:
        app = _APPS.setdefault(backend, RegistryApp(backend))
    parts = urlsplit(request.url)
    body = request.body
    if body is not None and hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = dict(request.headers)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=request.method,
        headers=headers,
        data=body or b"",
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    served: list[Any] = []

    def app_keeping_environ(env: Any, start_response: Any) -> Any:
        served.append(env)  # run_wsgi_app hands the app a copy of the environ
        return app(env, start_response)

    app_iter, status, response_headers = run_wsgi_app(app_keeping_environ, environ, buffered=True)
    content = b"".join(app_iter)
    cut = served[0].get(DISCONNECT_AFTER_BYTES) if served else None
    if cut is not None and int(cut) < len(content):  # a fault rule drops the connection
        raise requests.exceptions.ChunkedEncodingError(
            f"Connection broken: IncompleteRead({cut} bytes read, "
            f"{len(content) - int(cut)} more expected)"
        )
    response = requests.Response()
    response.status_code = int(status.split(" ", 1)[0])
    response.reason = status.split(" ", 1)[1] if " " in status else ""
    response.headers = CaseInsensitiveDict(dict(response_headers.items()))
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]
    response.raw = io.BytesIO(content)
    response.url = request.url
    response.request = request
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Patches ``requests.adapters`` right after it is first imported."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "requests.adapters":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return None

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            with _lock:
                if _state["getter"] is not None:
                    _patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec
