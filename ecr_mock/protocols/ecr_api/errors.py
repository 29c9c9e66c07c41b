"""The ECR API adapter's own errors: a request body its service model refuses."""

from __future__ import annotations


class ValidationError(Exception):
    """A request body the service rejects before running the operation.

    ``code`` is the wire error code (``__type``): ``ValidationException``,
    ``InvalidParameterException``, ``SerializationException``,
    ``InvalidTagParameterException`` or ``UnknownOperationException``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ValidationError(code={self.code!r}, message={self.message!r})"


class _Mismatch(Exception):
    """A JSON value of the wrong type, found while walking a body."""
