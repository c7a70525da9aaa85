"""A debug picture of a reading: the rectified page with every bubble coloured by its state, each
field's value and status, the admission number and the issues. Drawing only: no reading logic."""

from __future__ import annotations

import cv2
import numpy as np

from omr.reading import BubbleState, FieldStatus, PageReading

# BGR
COLOURS = {
    BubbleState.MARKED: (40, 170, 40),
    BubbleState.FAINT: (0, 150, 255),
    BubbleState.ERASED: (200, 0, 200),
    BubbleState.BLANK: (200, 200, 200),
}
PROBLEM = (30, 30, 230)


def draw_overlay(reading: PageReading) -> np.ndarray:
    image = cv2.cvtColor(reading.image, cv2.COLOR_GRAY2BGR)
    s = reading.px_per_mm
    layout = reading.layout
    if layout is not None:
        blocks = {b.id: b for b in layout.bubble_blocks}
        for f in reading.fields:
            block = blocks.get(f.block)
            if block is None or f.field not in block.fields:
                continue
            index = block.fields.index(f.field)
            axes = (max(1, int(block.bubble_width * s / 2)), max(1, int(block.bubble_height * s / 2)))
            last = (0, 0)
            for o, label in enumerate(block.options_of(index)):
                x, y = block.bubble_centre(index, o)
                centre = (int(round(x * s)), int(round(y * s)))
                state = f.states.get(label, BubbleState.BLANK)
                thickness = 1 if state == BubbleState.BLANK else 2
                cv2.ellipse(image, centre, axes, 0, 0, 360, COLOURS[state], thickness, cv2.LINE_AA)
                last = centre
            colour = PROBLEM if f.status in (FieldStatus.MULTIPLE, FieldStatus.AMBIGUOUS) else (160, 60, 0)
            text = f.value or "-"
            if f.status != FieldStatus.OK:
                text += f" {f.status.value}"
            cv2.putText(image, text, (last[0] + axes[0] + 3, last[1] + axes[1]), cv2.FONT_HERSHEY_SIMPLEX,
                        0.35 * s / 6, colour, 1, cv2.LINE_AA)
    header = f"id {reading.admission_no or '?'}  absent {reading.absent}  rotation {reading.rotation}"
    cv2.putText(image, header, (int(8 * s), int(6 * s)), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * s / 6, PROBLEM, 1,
                cv2.LINE_AA)
    for i, issue in enumerate(reading.issues[:12]):
        cv2.putText(image, f"{issue.code.value}: {issue.reason}"[:110],
                    (int(8 * s), image.shape[0] - int((4 + 4 * i) * s)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * s / 6,
                    PROBLEM, 1, cv2.LINE_AA)
    return image
