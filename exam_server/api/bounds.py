"""Upper bounds for request numbers whose meaning makes a huge finite value nonsense (1e308
points overflow every sum to infinity, which no JSON response can carry). Non-finite numbers
never get this far: exam_server/strict_json.py refuses them for every route."""

MAX_POINTS = 1000.0  # one slot or item (papers already cap slots at this)
MAX_TOTAL_POINTS = 100_000.0  # a paper, a section or a knowledge point's share of it
MAX_ITEM_SECONDS = 24 * 3600.0  # expected answering time of one item
MAX_PAPER_SECONDS = 7 * 24 * 3600.0  # a paper's time budget
MAX_ABS_THETA = 10.0  # IRT ability and difficulty live within a few units of 0
MAX_IRT_A = 20.0  # discrimination
MAX_INFORMATION = 1000.0  # test information targets and tolerances
