"""Seat allocation for joint exams (联考), pure: dataclasses in, a seating out.

No database, no HTTP: :mod:`exam_server.services.joint` maps rows to :class:`Candidate` and
:class:`RoomSpec`, calls :func:`allocate`, and writes the seats back. :func:`check` is an
independent checker (separate code) that re-verifies every seating; :mod:`.admission` renders
admission numbers from a template. import-linter keeps this package free of the app.
"""

from exam_server.seating.admission import SchemeError, render_numbers, validate_scheme
from exam_server.seating.allocate import AllocationError, allocate
from exam_server.seating.check import Violation, check
from exam_server.seating.model import Candidate, RoomSpec, Seat, Seating

__all__ = ["AllocationError", "Candidate", "RoomSpec", "SchemeError", "Seat", "Seating", "Violation", "allocate",
           "check", "render_numbers", "validate_scheme"]
