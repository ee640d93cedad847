"""The ``NAME[=VALUE]`` fault language shared by ``--fault`` and ``simulator-ctl fault``.

A spec names one change to a session's ``Faults`` (or the REST fault). ``parse_fault`` turns
it into ``FaultChange`` (field name -> new value) without touching any state, so the CLI can
refuse a bad spec before serving and the control API can refuse it before changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from kraken_proto.adapters.simulator.model._sessions import Faults

__all__ = [
    "FAULT_FORMS",
    "REST_FAULTS",
    "FaultChange",
    "FaultSpecError",
    "apply_fault",
    "parse_fault",
]

REST_FAULTS = ("http_500", "non_json")
_COUNT_FAULTS = {
    "close-after": "close_after_frames",
    "skip-sequence": "skip_sequence",
    "repeat-sequence": "repeat_sequence",
    "drop-replies": "drop_replies",
    "malformed": "malformed_frames",
    "drop-after-request": "drop_after_request",
}
FAULT_FORMS = (
    "close-after=N (drop the connection after N frames), skip-sequence=N, repeat-sequence=N, "
    "drop-replies=N, reply-delay=SECONDS, malformed=N, drop-after-request=N (drop the "
    "connection after each of the next N trading requests, before its reply), no-heartbeats, "
    "heartbeats, "
    "clear (every session fault off)"
)
_FAULT_FIELDS = frozenset(field.name for field in fields(Faults))


class FaultSpecError(ValueError):
    """A spec that names no known fault or carries a bad value; the message says which."""


@dataclass(frozen=True)
class FaultChange:
    """What one spec changes: ``Faults`` attributes to set, or (``rest``) the REST fault."""

    session_fields: dict[str, object]
    rest: bool = False
    rest_fault: str | None = None


def _non_negative_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise FaultSpecError(f"fault {name} needs a non-negative integer, got {value!r}")
    return number


def parse_fault(spec: str) -> FaultChange:
    """The change ``spec`` asks for; raises ``FaultSpecError`` naming the accepted forms.

    Besides the session faults, ``rest=http_500``, ``rest=non_json`` and ``rest=off`` set the
    fault of every token request (see ``Exchange.rest_fault``).
    """
    name, has_value, value = spec.partition("=")
    if name == "no-heartbeats" and not has_value:
        return FaultChange({"heartbeats": False})
    if name == "heartbeats" and not has_value:
        return FaultChange({"heartbeats": True})
    if name == "clear" and not has_value:
        return FaultChange(dict(vars(Faults())))
    if name in _COUNT_FAULTS and has_value:
        return FaultChange({_COUNT_FAULTS[name]: _non_negative_int(name, value)})
    if name == "reply-delay" and has_value:
        try:
            delay = float(value)
        except ValueError:
            delay = -1.0
        if not 0.0 <= delay < float("inf"):
            raise FaultSpecError(f"fault reply-delay needs seconds >= 0, got {value!r}")
        return FaultChange({"reply_delay": delay})
    if name == "rest" and has_value:
        if value == "off":
            return FaultChange({}, rest=True)
        if value in REST_FAULTS:
            return FaultChange({}, rest=True, rest_fault=value)
        choices = ", ".join((*REST_FAULTS, "off"))
        raise FaultSpecError(f"fault rest needs one of {choices}, got {value!r}")
    raise FaultSpecError(
        f"unknown fault {spec!r}; expected one of: {FAULT_FORMS}, rest=http_500|non_json|off"
    )


def apply_fault(faults: Faults, change: FaultChange) -> None:
    """Set the session attributes of ``change`` on ``faults`` (``rest`` is the caller's)."""
    for name, value in change.session_fields.items():
        if name not in _FAULT_FIELDS:  # pragma: no cover - parse_fault only names real fields
            raise FaultSpecError(f"Faults has no field {name!r}")
        setattr(faults, name, value)
