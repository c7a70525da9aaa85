"""The OCR part of the permission world: on exam ``EM`` (``tA``'s, marker ``mA``), sA's answer to the
first unit's slot has a scanned crop in the file store (served by the task's token) and a machine
reading of it (scored 0 as an empty box: in the audit list, reviewable by the lead)."""

from typing import Any

import cv2
import numpy as np
from permissions_world import PermWorld
from sqlalchemy import select

from exam_server.db import session_scope
from exam_server.services.scans import store_for
from models import AnswerCrop, CropReading, MarkingTask, MarkingUnit


def add_ocr(perm: PermWorld) -> None:
    world, ids = perm.world, perm.ids
    now = world.clock()
    ok, png = cv2.imencode(".png", np.full((40, 120), 235, np.uint8))
    assert ok
    sha = store_for(world.runtime.settings.data_dir).put(png.tobytes(), "crop.png", "image/png")["sha256"]
    with session_scope(world.runtime.session_factory) as session:
        task = session.scalars(select(MarkingTask).where(MarkingTask.token == ids["marking_token"])).one()
        unit = session.get(MarkingUnit, task.unit_id)
        assert unit is not None
        crop = AnswerCrop(exam_id=unit.exam_id, user_id=ids["sA"], slot_id=unit.slot_ids[0],
                          scan_page_id=ids["scan_page"], region_id="r1", kind="subjective", field="1",
                          image_sha256=sha, created_at=now)
        session.add(crop)
        session.flush()
        reading = CropReading(crop_id=crop.id, exam_id=unit.exam_id, attempt_id=task.attempt_id,
                              slot_id=unit.slot_ids[0], blank_index=0, image_sha256=sha, decision="blank",
                              reason="blank", text="", confidence=0.99, model="test", fraction=0.0,
                              detail="no ink in the box", created_at=now, updated_at=now)
        session.add(reading)
        session.flush()
        ids.update(crop_reading=reading.id)


def ocr_rows(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None, dict[str, int]]]:
    """Crop images by task token: the unit's marker (mA) and its lead (the exam's managers); the
    machine's audit list, its images, reviews and flags: the lead only. Everyone else: 404."""
    em, token, reading = ids["mark_exam"], ids["marking_token"], ids["crop_reading"]
    none = {"tA2": 404, "rA": 404, "tB": 404}
    lead = {"admin": 200, "tA": 200, "mA": 404, **none}
    return [
        ("GET", f"/api/marking/tasks/{token}/crops/0", None, {"admin": 200, "tA": 200, "mA": 200, **none}),
        ("GET", f"/api/exams/{em}/marking/machine", None, lead),
        ("GET", f"/api/marking/readings/{reading}/image", None, lead),
        ("POST", f"/api/marking/readings/{reading}/review", None, lead),
        ("GET", f"/api/exams/{em}/marking/flags", None, lead),
    ]
