"""Printing for joint exams (联考): admission tickets (准考证), door lists (门贴), sign-in sheets
(签到表) and seat charts (座位图) as A4 PDFs with an embedded CJK font.

* :mod:`.data`: plain dataclasses (what a page shows); :mod:`.render`: PDF out of them, pure
  (no database, no HTTP); :mod:`.fonts`: the CJK TrueType font, or a clear error naming it;
  :mod:`.qr`: the ticket QR payload; :mod:`.loader`: builds the dataclasses from the tables.
* Large runs are a job (:mod:`exam_server.services.print_jobs`) that renders room by room and
  writes each PDF to disk, so memory stays flat whatever the number of tickets.
"""
