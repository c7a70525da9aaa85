"""Optical mark recognition for scanned answer sheets (pure stages: load -> locate -> rectify ->
measure -> interpret). Never imports ``grading``: the service maps a reading to responses.

Stages: ``omr.load`` (bytes -> grey pages), ``omr.locate`` (QR, markers / edges / reference scan,
rotation), ``omr.rectify`` (homography to a canonical page, light flattening), ``omr.measure``
(bubble darkness, the sheet's own levels), ``omr.interpret`` (states, statuses, issues), wired by
``omr.reader.read_page``; ``omr.overlay`` draws a debug picture apart from the logic.
"""
