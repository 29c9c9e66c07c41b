"""The errors of HTTP requests both surfaces share: broken framing, a body that cannot be had."""

from __future__ import annotations

__all__ = ["BodyError", "FramingError"]


class FramingError(ValueError):
    """A request whose body boundaries cannot be trusted; answer 400 (or ``status``) and close."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class BodyError(ValueError):
    """A request body that cannot be had; each application answers it in its own wire shape.

    ``too_large`` tells a body over the limit from a malformed or cut one.
    """

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large
