"""Portfolio race: the same model solved by two differently configured solvers on the two cores.

Measured on the bench blueprint (restricted model of ~2,000-4,000 columns): the time HiGHS needs
to reach the tolerance depends mostly on its random seed (0.5-4.8 s for seeds 0-3 on one bank,
0.8-2.9 s on another), and CP-SAT with one worker was slower than HiGHS on all three banks tried
(median ~2.4 s vs ~1.2 s). So "highs" races two HiGHS runs (seed 0 with presolve, seed 1 without);
"portfolio" races HiGHS against a one-worker CP-SAT; "cpsat" is CP-SAT alone with two workers
(it is a portfolio itself). Both solvers release the GIL while solving. The first answer that is
decisive (infeasible, or a paper within the gap that re-checks clean against the model rows)
stops the others; otherwise the best checked paper wins and the bound is the best of all bounds.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

import numpy as np

from item_bank.assembly.formulate import Formulation
from item_bank.assembly.model import relative_gap
from item_bank.assembly.solution import RawSolution, model_violations
from item_bank.assembly.solve_cpsat import solve_cpsat
from item_bank.assembly.solve_highs import solve_highs

SolverName = Literal["highs", "cpsat", "portfolio"]
Strategy = Callable[[Formulation, float, float, threading.Event | None], RawSolution]


def _highs(seed: int, presolve: bool) -> Strategy:
    return lambda f, t, g, stop: solve_highs(f, t, g, seed=seed, presolve=presolve, stop=stop)


def _cpsat(workers: int) -> Strategy:
    return lambda f, t, g, stop: solve_cpsat(f, t, g, workers=workers, stop=stop)


def strategies(solver: SolverName, f: Formulation) -> list[Strategy]:
    if solver == "cpsat":
        return [_cpsat(2)]
    if solver == "portfolio" and all(float(d.weight).is_integer() for d in f.dev) and not f.relax_tail:
        return [_highs(0, True), _cpsat(1)]
    return [_highs(0, True), _highs(1, False)]


def _checked(f: Formulation, raw: RawSolution) -> bool:
    return raw.x is not None and model_violations(f, raw.x.astype(np.float64)) == 0


def _decisive(f: Formulation, raw: RawSolution, rel_gap: float) -> bool:
    if raw.status == "infeasible":
        return True
    return raw.status == "optimal" and _checked(f, raw) and relative_gap(raw.objective, raw.bound) <= rel_gap


def race(f: Formulation, solver: SolverName, time_limit: float, rel_gap: float) -> RawSolution:
    runs = strategies(solver, f)
    if len(runs) == 1:
        return runs[0](f, time_limit, rel_gap, None)
    stop = threading.Event()
    out: queue.Queue[RawSolution | BaseException] = queue.Queue()

    def go(run: Strategy) -> None:
        try:
            out.put(run(f, time_limit, rel_gap, stop))
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            out.put(e)

    threads = [threading.Thread(target=go, args=(run,), daemon=True) for run in runs]
    for t in threads:
        t.start()
    got: list[RawSolution] = []
    errors: list[BaseException] = []
    for _ in runs:
        item = out.get()
        if isinstance(item, BaseException):
            errors.append(item)
            continue
        got.append(item)
        if _decisive(f, item, rel_gap):
            stop.set()
    stop.set()
    for t in threads:
        t.join()
    if not got:
        raise errors[0]
    return _combine(f, got, rel_gap)


def _combine(f: Formulation, got: list[RawSolution], rel_gap: float) -> RawSolution:
    papers = [r for r in got if _checked(f, r)]
    seconds = max(r.seconds for r in got)
    if not papers:
        infeasible = [r for r in got if r.status == "infeasible"]
        return replace(infeasible[0] if infeasible else got[0], seconds=seconds)
    best = min(papers, key=lambda r: (r.objective, r.status != "optimal"))
    bound = max((r.bound for r in got if r.status != "infeasible" and math.isfinite(r.bound)), default=-math.inf)
    bound = min(max(bound, best.bound), best.objective)
    status = "optimal" if relative_gap(best.objective, bound) <= rel_gap else best.status
    return replace(best, bound=bound, status=status, seconds=seconds)
