"""The audit trail: append-only rows saying who changed what (written in the same transaction)."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent


def record(session: Session, actor_id: int | None, action: str, target_type: str, target_id: int | None,
           data: dict[str, Any] | None, now: datetime) -> AuditEvent:
    event = AuditEvent(actor_id=actor_id, action=action, target_type=target_type, target_id=target_id, data=data,
                       created_at=now)
    session.add(event)
    return event


def events_for(session: Session, target_type: str, target_ids: list[int]) -> list[AuditEvent]:
    query = (select(AuditEvent).where(AuditEvent.target_type == target_type, AuditEvent.target_id.in_(target_ids))
             .order_by(AuditEvent.id))
    return list(session.scalars(query))
