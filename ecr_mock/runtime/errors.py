"""Errors of the runtime: TLS that cannot be set up."""

from __future__ import annotations


class TlsSetupError(Exception):
    """The CA cannot be used: the library is missing or its directory cannot be written."""
