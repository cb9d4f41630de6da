"""Site groups: several sites per actor give the same results as one actor per site and as the local runtime."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from actors.backtest.driver import plan_backtest, run_backtest
from actors.backtest.site import SiteService
from actors.backtest.site_group import SiteGroupService, group_sizes, solver_threads
from actors.runtime import LocalRuntime, RayRuntime
from twin.config import parse_scenario
from twin.io.prices import load_prices

BATTERIES = [
    {"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100, "soc_min": 0.1, "soc_max": 0.9},
    {"energy_kwh": 50, "p_charge_max_kw": 50, "p_discharge_max_kw": 25, "eta_charge": 0.9, "eta_discharge": 0.9},
]


@pytest.fixture
def fleet_scenario(tmp_path, hourly_prices):
    path = tmp_path / "prices.csv"
    pd.DataFrame({
        "timestamp_utc": hourly_prices.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "price_de_lu_eur_per_mwh": hourly_prices.to_numpy(),
    }).to_csv(path, index=False)
    sites = [{"site_id": f"s{i}", "battery": BATTERIES[i % 2] | {"soc_initial": 0.3 + 0.05 * i}} for i in range(5)]
    sites[4]["battery"] = BATTERIES[0]  # two identical batteries (s0, s4): one perfect-foresight solve
    sites[0]["battery"] = BATTERIES[0]
    return parse_scenario({"name": "fleet", "market": {"zone": "DE-LU", "prices": {"path": str(path)}},
                           "strategy": {"forecaster": "persistence"}, "sites": sites})


def _run(scenario, runtime, sites_per_actor):
    plan = plan_backtest(scenario, load_prices(scenario.market))
    try:
        return run_backtest(plan, runtime, sites_per_actor=sites_per_actor)
    finally:
        runtime.close()


def _assert_same(a, b):
    assert len(a.site_days) == len(b.site_days) > 0
    for day_a, day_b in zip(a.site_days, b.site_days, strict=True):
        assert [d.site_id for d in day_a] == [d.site_id for d in day_b]
        for x, y in zip(day_a, day_b, strict=True):
            for name in ("schedule_kw", "power_kw", "soc", "revenue_eur", "imbalance_kwh"):
                np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
    for site_id, pf in a.perfect_foresight.items():
        np.testing.assert_array_equal(pf.power_kw, b.perfect_foresight[site_id].power_kw)


def test_group_sizes():
    assert group_sizes(1000, None, 2) == 500
    assert group_sizes(16, None, 64) == 1
    assert group_sizes(16, 4, 2) == 4
    with pytest.raises(ValueError, match="sites_per_actor must be >= 1"):
        group_sizes(16, 0, 2)


def test_any_grouping_gives_the_same_run(fleet_scenario):
    runs = [_run(fleet_scenario, LocalRuntime(), k) for k in (1, 2, 5)]
    _assert_same(runs[0], runs[1])
    _assert_same(runs[0], runs[2])
    assert [d.site_id for d in runs[0].site_days[0]] == [f"s{i}" for i in range(5)]


@pytest.fixture
def solved(monkeypatch):
    """The site ids whose perfect-foresight bound is solved, in call order."""
    ids: list[str] = []
    original = SiteService.perfect_foresight

    def counted(self, *args):
        ids.append(self.site_id)
        return original(self, *args)

    monkeypatch.setattr(SiteService, "perfect_foresight", counted)
    return ids


def test_identical_batteries_solve_the_perfect_foresight_lp_once(fleet_scenario, solved):
    run = _run(fleet_scenario, LocalRuntime(), 5)
    assert sorted(solved) == ["s0", "s1", "s2", "s3"]  # s4 has s0's battery
    np.testing.assert_array_equal(run.perfect_foresight["s4"].power_kw, run.perfect_foresight["s0"].power_kw)


def test_the_groups_share_the_bounds_work(fleet_scenario, solved):
    """Groups (s0, s1, s2) and (s3, s4): s0 and s4 share a battery; s4 solves it, the less loaded group's site.

    (This plain arbitrage fleet then solves the chosen sites' bounds in a group of their own, beside the days.)
    """
    run = _run(fleet_scenario, LocalRuntime(), 3)
    assert sorted(solved) == ["s1", "s2", "s3", "s4"]
    np.testing.assert_array_equal(run.perfect_foresight["s0"].power_kw, run.perfect_foresight["s4"].power_kw)


def test_solving_on_threads_gives_the_same_run(fleet_scenario, monkeypatch):
    """The sites of a group plan on a thread per CPU (HiGHS releases the GIL); the run does not change."""
    monkeypatch.setenv("BESS_TWIN_SOLVER_THREADS", "1")
    assert solver_threads() == 1
    serial = _run(fleet_scenario, LocalRuntime(), None)
    monkeypatch.setenv("BESS_TWIN_SOLVER_THREADS", "3")
    assert solver_threads() == 3
    threaded = _run(fleet_scenario, LocalRuntime(), None)
    _assert_same(serial, threaded)
    monkeypatch.delenv("BESS_TWIN_SOLVER_THREADS")
    assert solver_threads() == len(os.sched_getaffinity(0))  # outside Ray: this process's CPUs


def test_a_group_needs_a_site():
    with pytest.raises(ValueError, match="at least one site"):
        SiteGroupService()


@pytest.mark.ray
def test_ray_site_groups_agree_with_one_actor_per_site_and_local(fleet_scenario, ray_session):
    local = _run(fleet_scenario, LocalRuntime(), None)
    grouped = _run(fleet_scenario, RayRuntime(), 3)  # two actors: 3 + 2 sites
    per_site = _run(fleet_scenario, RayRuntime(), 1)
    _assert_same(local, grouped)
    _assert_same(local, per_site)


def test_days_spilled_to_disk_assemble_to_the_same_results(fleet_scenario, tmp_path):
    from actors.backtest.driver import period_index, period_prices
    from twin.backtest.results import assemble

    plan = plan_backtest(fleet_scenario, load_prices(fleet_scenario.market))
    kept = run_backtest(plan, LocalRuntime(), sites_per_actor=2)
    spilled = run_backtest(plan, LocalRuntime(), sites_per_actor=2, spill_dir=tmp_path / "days")
    assert len(list((tmp_path / "days").glob("chunk-*.pkl"))) == 0  # 9 days: still the open chunk
    small = type(spilled.site_days)(tmp_path / "small", chunk_days=2)
    for day in spilled.site_days:
        small.append(day)
    assert len(list((tmp_path / "small").glob("chunk-*.pkl"))) == 4
    _assert_same(kept, spilled)
    results = [assemble(fleet_scenario, period_index(plan), period_prices(plan), plan.prices.dt_h, days,
                        kept.perfect_foresight, {}) for days in (kept.site_days, small)]  # fmt: skip
    pd.testing.assert_frame_equal(results[0].sites, results[1].sites)
    pd.testing.assert_frame_equal(results[0].daily, results[1].daily)
    assert results[0].summary == results[1].summary
    assert [d.delivery_date for d in small.site(3)] == small.dates
    assert small[-1][4].site_id == "s4" and len(small[1:3]) == 2


def test_a_streamed_sites_table_equals_the_one_in_memory(fleet_scenario, tmp_path, monkeypatch):
    import twin.backtest.results as results
    from actors.backtest.driver import period_index, period_prices
    from twin.backtest.results import assemble, write_results

    plan = plan_backtest(fleet_scenario, load_prices(fleet_scenario.market))
    run = run_backtest(plan, LocalRuntime())
    args = (fleet_scenario, period_index(plan), period_prices(plan), plan.prices.dt_h, run.site_days,
            run.perfect_foresight, {})  # fmt: skip
    kept = assemble(*args)
    monkeypatch.setattr(results, "KEPT_SITES", 2)
    (tmp_path / "run").mkdir()
    streamed = assemble(*args, sites_path=tmp_path / "run" / "sites.parquet")
    assert streamed.sites_file == tmp_path / "run" / "sites.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(streamed.sites_file), kept.sites)
    assert list(streamed.sites["site_id"].unique()) == ["s0", "s1"]  # only the first sites stay in memory
    pd.testing.assert_frame_equal(streamed.all_sites(), kept.sites)
    assert streamed.summary == kept.summary
    write_results(streamed, tmp_path / "run")  # leaves the streamed file as it is
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "run" / "sites.parquet"), kept.sites)
