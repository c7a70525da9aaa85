"""Synthetic answer sheets for tests and benchmarks: a blank page drawn from a layout, filled
from known answers, then printed-and-scanned in software, with the ground truth kept beside."""
