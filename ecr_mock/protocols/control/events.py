"""The control route for the ECR events recorded so far: ``/ecr-mock/events``."""

from __future__ import annotations

from ecr_mock.protocols.control import ControlError, ControlRequest, ControlResponse, ControlRoute


def list_events(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/events``: ``{"events": [...]}``, oldest first, EventBridge-shaped.

    ``detail_type`` (``ECR Image Action``, ``ECR Image Scan``, ``ECR Lifecycle Policy Action``)
    keeps one kind.
    """
    unknown = sorted(set(request.query) - {"detail_type"})
    if unknown:
        raise ControlError.bad_field(
            unknown[0], f"Unknown filter(s) {', '.join(unknown)}; use detail_type"
        )
    log = request.backend.events
    kind = request.query.get("detail_type")
    events = log.all() if kind is None else log.of_type(kind)
    return ControlResponse(200, {"events": events})


def clear_events(request: ControlRequest) -> ControlResponse:
    """``DELETE /ecr-mock/events``: forget the events recorded so far."""
    request.backend.events.clear()
    return ControlResponse(204)


def events_route() -> ControlRoute:
    """The ``events`` route."""
    return ControlRoute(
        "events", r"/ecr-mock/events/?", {"GET": list_events, "DELETE": clear_events}
    )
