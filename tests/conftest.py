"""Shared fixtures: battery specs, price series, the real data folder, a Ray session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.config import BatterySpec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def bess_spec() -> BatterySpec:
    """The seed EMS battery (site vienna of the quickstart)."""
    return BatterySpec(
        energy_kwh=200, p_charge_max_kw=100, p_discharge_max_kw=100,
        eta_charge=0.95, eta_discharge=0.95, soc_min=0.1, soc_max=0.9, soc_initial=0.5,
    )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data sets (BESS_TWIN_DATA, default ../shared/data beside the checkout)."""
    path = Path(os.environ.get("BESS_TWIN_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"BESS_TWIN_DATA={path} does not exist; CI must provide the data sets")
        pytest.skip(f"real data not available at {path}; set BESS_TWIN_DATA")
    os.environ.setdefault("BESS_TWIN_DATA", str(path))
    return path


@pytest.fixture
def hourly_prices() -> pd.Series:
    """Ten local days of a synthetic daily price shape (cheap nights, dear evenings), UTC index."""
    index = pd.date_range("2023-03-20", periods=24 * 10, freq="h", tz="Europe/Berlin").tz_convert("UTC")
    hour = index.tz_convert("Europe/Berlin").hour.to_numpy()
    day = np.arange(len(index)) // 24
    values = 60 + 40 * np.sin((hour - 9) / 24 * 2 * np.pi) + 5 * (day % 3)
    return pd.Series(values, index=index, name="price_eur_per_mwh")


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance for every test marked ``ray`` (num_cpus=2)."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def pytest_addoption(parser):
    parser.addoption("--hardware", action="store_true", help="run tests that need a physical battery")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--hardware"):
        return
    skip = pytest.mark.skip(reason="needs a physical battery; run with --hardware")
    for item in items:
        if item.get_closest_marker("hardware") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _forecast_cache(tmp_path_factory):
    """Keep the forecast vintage cache of the test session in a temporary folder."""
    folder = tmp_path_factory.mktemp("bess-twin-cache")
    old = os.environ.get("BESS_TWIN_CACHE")
    os.environ["BESS_TWIN_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("BESS_TWIN_CACHE", None)
    else:
        os.environ["BESS_TWIN_CACHE"] = old
