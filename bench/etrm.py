"""ETRM overhead: the quickstart backtest with the risk, credit, billing and grid services on and off.

Median wall time of the simulation (``run_backtest``) over repeats, alternating
on/off so machine load hits both alike, and of writing the ETRM files (PDFs and
ledger included). Both runtimes: local (in-process) and Ray (the services are
their own actors). For the README, never asserted in tests. Run with
BESS_TWIN_DATA set (the Makefile sets it).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from actors.backtest.driver import run_backtest
from actors.runtime import make_runtime
from api.cli.prepare import prepare
from twin.backtest.results import assemble
from twin.etrm.run_files import write_etrm


def once(etrm: bool, runtime: str) -> tuple[float, float]:
    """Simulation and ETRM-file seconds of one quickstart run."""
    from actors.backtest.driver import period_index, period_prices

    ready = prepare(Path("scenarios/quickstart.yaml"), etrm=etrm)
    rt = make_runtime(runtime)  # type: ignore[arg-type]
    try:
        t = time.perf_counter()
        run = run_backtest(ready.plan, rt)
        simulate_s = time.perf_counter() - t
    finally:
        rt.close()
    files_s = 0.0
    if run.etrm is not None:
        plan = ready.plan
        result = assemble(ready.scenario, period_index(plan), period_prices(plan), ready.prices.dt_h,
                          run.site_days, run.perfect_foresight, {}, run.sessions)  # fmt: skip
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            write_etrm(run.etrm, Path(out), result.sites, result.trades, ready.scenario.market.timezone)
            files_s = time.perf_counter() - t
    return simulate_s, files_s


def main(repeats: int = 3) -> None:
    out: dict[str, dict[str, float]] = {}
    for runtime in ("local", "ray"):
        on, off, files = [], [], []
        for _ in range(repeats):
            s, f = once(True, runtime)
            on.append(s + f)
            files.append(f)
            off.append(once(False, runtime)[0])
        out[runtime] = {
            "without_etrm_s": statistics.median(off),
            "with_etrm_s": statistics.median(on),
            "etrm_files_s": statistics.median(files),
            "ratio": statistics.median(on) / statistics.median(off),
        }
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    print(json.dumps({"machine": machine, "repeats": repeats, **out}, indent=2))


if __name__ == "__main__":
    main()
