"""What the candidate's connection tells the proctors' walls: status changes and flag changes, as
:class:`proctoring.protocol.WallUpdate` payloads on the room's and the exam's channels (after the
transaction that caused them committed)."""

from __future__ import annotations

from typing import Any, Protocol

from proctoring.bus import Bus, exam_channel, room_channel
from proctoring.protocol import WallUpdate
from proctoring.rules import FlagChange


class SessionRef(Protocol):
    @property
    def session_id(self) -> int: ...

    @property
    def exam_id(self) -> int: ...

    @property
    def exam_room_id(self) -> int | None: ...


async def _publish(bus: Bus, ref: SessionRef, kind: str, payload: dict[str, Any]) -> None:
    update = WallUpdate(type=kind, exam_id=ref.exam_id, exam_room_id=ref.exam_room_id,
                        session_id=ref.session_id, payload=payload).model_dump(mode="json")
    for channel in (room_channel(ref.exam_id, ref.exam_room_id), exam_channel(ref.exam_id)):
        await bus.publish(channel, update)


async def session_status(bus: Bus, ref: SessionRef, state: str, identity: str | None, *, connected: bool) -> None:
    payload: dict[str, Any] = {"state": state, "connected": connected}
    if identity is not None:
        payload["identity"] = identity
    await _publish(bus, ref, "session", payload)


def flag_payload(change: FlagChange) -> dict[str, Any]:
    return {"rule": str(change.rule), "severity": str(change.severity), "started_at": change.started_at.isoformat(),
            "ended_at": change.ended_at.isoformat() if change.ended_at else None, "evidence": change.evidence}


async def flags(bus: Bus, ref: SessionRef, changes: list[FlagChange]) -> None:
    for change in changes:
        await _publish(bus, ref, "flag", flag_payload(change))
