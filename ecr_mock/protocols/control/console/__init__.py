"""The web console at ``/ecr-mock/ui/``: server-rendered pages over the services, on the same port.

Pages: home (registries, counts, bytes, the clock), a repository (settings, policies, the
lifecycle preview, images with actions), an image (manifest, config, layers, platforms,
referrers, findings), the call record, fault rules, and the comparison of two images. Access
follows the control API's rule (:mod:`ecr_mock.protocols.control.console.access`).
"""

from __future__ import annotations

from ecr_mock.protocols.control.console.app import Console, console_route

__all__ = ["Console", "console_route"]
