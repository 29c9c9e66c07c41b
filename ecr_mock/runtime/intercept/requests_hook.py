"""In-process registry: ``requests`` calls to ECR registry hosts and ``public.ecr.aws`` are served
by the /v2/ app through a ``responses`` mock, with answers streamed from the app."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from ecr_mock.domain.names import REGISTRY_HOST_RE
from ecr_mock.runtime.errors import DroppedAnswer

BackendGetter = Callable[[], Any]
DISCONNECT_AFTER_BYTES = "ecr_mock.disconnect_after_bytes"
"""WSGI environ key the registry sets when a fault rule cuts the answer."""
PUBLIC_HOST = "public.ecr.aws"
REGISTRY_URL_RE = re.compile(
    rf"https?://(?:{re.escape(PUBLIC_HOST)}|{REGISTRY_HOST_RE.pattern})\.?(?::[0-9]+)?(?:[/?#]|$)",
    re.IGNORECASE,
)
"""URLs the registry answers: a registry host (any port), or ECR Public's."""
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_lock = threading.Lock()
_state: dict[str, Any] = {"getter": None, "finder": None, "mock": None, "callbacks": []}
_APPS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The registry app of each backend served, made on its first request."""


def install(getter: BackendGetter) -> None:
    """Answer registry-host requests from the backend ``getter()`` returns.

    The ``responses`` mock starts now when ``requests`` is imported, otherwise as soon as it
    is, so a process that never uses it does not pay for importing it.
    """
    with _lock:
        _state["getter"] = getter
        if "requests" in sys.modules and hasattr(sys.modules["requests"], "Session"):
            _start()
        elif _state["finder"] is None:
            finder = _ImportWatcher()
            _state["finder"] = finder
            sys.meta_path.insert(0, finder)


def uninstall() -> None:
    """Stop the mock and stop watching imports."""
    with _lock:
        finder = _state["finder"]
        if finder is not None and finder in sys.meta_path:
            sys.meta_path.remove(finder)
        _state["finder"] = None
        _state["getter"] = None
        mock = _state["mock"]
        if mock is None:
            return
        import responses

        mock.stop(allow_assert=False)
        for callback in _state["callbacks"]:
            with contextlib.suppress(ValueError):  # leave the shared mock as it was
                responses.mock.remove(callback)
        _state["mock"] = None
        _state["callbacks"] = []


def _start() -> None:
    """Start a ``responses`` mock answering registry URLs; others go on as they would have.

    Unmatched requests go to whatever ``requests`` sent with before (moto's mock when one is
    running, else the network). The callbacks are also registered with ``responses``' shared
    mock, which moto's own mock consults first, so a ``mock_aws`` started inside this one
    still hands registry URLs here.
    """
    if _state["mock"] is not None:
        return
    import requests.adapters
    import responses

    mock = responses.RequestsMock(
        assert_all_requests_are_fired=False,
        real_adapter_send=requests.adapters.HTTPAdapter.send,
    )
    mock._calls = _NoCalls()  # type: ignore[assignment]  # keep no bodies or answers
    mock.add_passthru(re.compile(""))
    callbacks = []
    for method in _METHODS:
        callback = responses.CallbackResponse(
            method=method, url=REGISTRY_URL_RE, callback=_answer, content_type=None
        )
        callback._calls = _NoCalls()  # type: ignore[assignment]
        mock.add(callback)
        responses.mock.add(callback)
        callbacks.append(callback)
    mock.start()
    _state["mock"] = mock
    _state["callbacks"] = callbacks


def _answer(request: Any) -> tuple[int, list[tuple[str, str]], Any]:
    """Serve one prepared request with the registry app; the body streams from the app."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from ecr_mock.protocols.registry.app import RegistryApp

    getter = _state["getter"]
    backend = getter() if getter is not None else None
    if backend is None:
        import requests

        raise requests.ConnectionError(f"ecr-mock: no mock_ecr is active for {request.url}")
    app = _APPS.get(backend)
    if app is None:
        app = _APPS.setdefault(backend, RegistryApp(backend))
    parts = urlsplit(request.url)
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    headers = dict(request.headers)
    chunked: Any = None
    if body is None or isinstance(body, bytes):
        stream = io.BytesIO(body or b"")  # shares the bytes: no copy
    else:  # an iterable of chunks (a chunked upload), read as it comes
        chunked = io.BufferedReader(_IterableRaw(iter(body)))
        stream = io.BytesIO()
        headers.pop("Transfer-Encoding", None)
        headers.pop("Content-Length", None)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=request.method,
        headers=headers,
        input_stream=stream,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    if chunked is not None:  # no length: the body ends where the chunks end
        environ["wsgi.input"] = chunked
        environ["wsgi.input_terminated"] = True
        environ.pop("CONTENT_LENGTH", None)
    served: list[Any] = []

    def app_keeping_environ(env: Any, start_response: Any) -> Any:
        served.append(env)  # run_wsgi_app hands the app a copy of the environ
        return app(env, start_response)

    app_iter, status, response_headers = run_wsgi_app(app_keeping_environ, environ)
    cut = served[0].get(DISCONNECT_AFTER_BYTES) if served else None
    length = response_headers.get("Content-Length")
    raw = _IterableRaw(
        iter(app_iter),
        close=getattr(app_iter, "close", None),
        cut=int(cut) if cut is not None else None,
        expected=int(length) if length is not None and length.isdigit() else None,
    )
    return int(status.split(" ", 1)[0]), list(response_headers.items()), io.BufferedReader(raw)


class _IterableRaw(io.RawIOBase):
    """A readable stream over an iterable of byte chunks, holding one chunk at a time.

    With ``cut`` it fails after that many bytes as a dropped connection does (a fault rule).
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        close: Callable[[], Any] | None = None,
        cut: int | None = None,
        expected: int | None = None,
    ) -> None:
        self._chunks = chunks
        self._close = close
        self._cut = cut
        self._expected = expected
        self._pending = memoryview(b"")
        self._sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        if self._cut is not None:
            if self._sent >= self._cut:
                total = self._expected if self._expected is not None else self._sent + 1
                raise DroppedAnswer(self._sent, max(total - self._sent, 1))
            size = min(size, self._cut - self._sent)
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self._sent += size
        return size

    def close(self) -> None:
        if not self.closed and self._close is not None:
            self._close()
        super().close()


class _NoCalls:
    """A call list that keeps nothing (``responses`` would keep every body it saw)."""

    def add(self, request: Any, response: Any) -> None:
        """Forget the call."""

    def add_call(self, call: Any) -> None:
        """Forget the call."""

    def reset(self) -> None:
        """Nothing to forget."""

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __getitem__(self, index: int) -> Any:
        raise IndexError(index)


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Starts the mock right after ``requests`` is first imported."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "requests":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return None

        def exec_and_start(module: ModuleType) -> None:
            exec_module(module)
            sys.modules[fullname] = module
            with _lock:
                if _state["getter"] is not None:
                    _start()

        loader.exec_module = exec_and_start  # type: ignore[method-assign]
        return spec
