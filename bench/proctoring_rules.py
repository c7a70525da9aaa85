"""bench/proctoring_rules.py: how fast the detection rules consume a session's observations.

Simulates ``--sessions`` honest-to-noisy candidates for ``--minutes`` each (a heartbeat every 5 s, a
frame analysis every 10 s, random browser events) and feeds every observation through
``proctoring.rules.step`` with the JSON round trip of the rule state that ``observe`` does per call
(the worst case: one call per observation). The baseline, measured in the same run, is the JSON
round trip alone. The last line is one JSON object.

    .venv/bin/python bench/proctoring_rules.py --sessions 200 --minutes 60
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta

from proctoring.rules import FlagChange, Observation, RuleState, step

EVENTS = ["window_blur", "window_focus", "tab_hidden", "tab_visible", "copy", "paste", "fullscreen_exit",
          "fullscreen_enter"]


def session_stream(rng: random.Random, minutes: int) -> list[Observation]:
    t0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
    out: list[Observation] = []
    for second in range(0, minutes * 60, 5):
        at = t0 + timedelta(seconds=second)
        out.append(Observation("heartbeat", at))
        if second % 10 == 0:
            faces = rng.choices([1, 0, 2], weights=[95, 4, 1])[0]
            out.append(Observation("frame_analysed", at, {"faces": faces, "usable": True,
                                                          "matches": True if faces == 1 else None}))
        if rng.random() < 0.05:
            out.append(Observation(rng.choice(EVENTS), at + timedelta(seconds=rng.random() * 4)))
    return out


def run(streams: list[list[Observation]], rules: bool) -> tuple[float, int]:
    flags = 0
    start = time.perf_counter()
    for stream in streams:
        state = RuleState()
        for obs in stream:
            changes: list[FlagChange] = step(state, obs) if rules else []
            flags += sum(1 for c in changes if c.ended_at is None)
            state = RuleState.from_json(json.loads(json.dumps(state.to_json())))
    return time.perf_counter() - start, flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    streams = [session_stream(rng, args.minutes) for _ in range(args.sessions)]
    count = sum(len(s) for s in streams)
    base_s, _ = run(streams, rules=False)
    rules_s, flags = run(streams, rules=True)
    print(json.dumps({"sessions": args.sessions, "observations": count, "flags_opened": flags,
                      "observations_per_s": round(count / rules_s), "baseline_json_only_per_s": round(count / base_s),
                      "us_per_observation": round(rules_s / count * 1e6, 1),
                      "baseline_us_per_observation": round(base_s / count * 1e6, 1)}))


if __name__ == "__main__":
    main()
