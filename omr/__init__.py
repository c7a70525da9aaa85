"""Optical mark recognition for scanned answer sheets (pure stages: load -> locate -> rectify ->
measure -> interpret). Never imports ``grading``: the service maps a reading to responses.

Empty until the answer-sheet issue lands; the package exists so the layout and the import
contracts are in place from the start.
"""
