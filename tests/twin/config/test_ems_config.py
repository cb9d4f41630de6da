"""EMS scenario keys: bad load, PV, tariff and strategy values name the key, the value and the fix."""

from __future__ import annotations

import copy

import pytest
from typer.testing import CliRunner

from api.cli import app
from twin.config import parse_scenario
from twin.errors import ConfigError

BATTERY = {"energy_kwh": 10, "p_charge_max_kw": 5, "p_discharge_max_kw": 5}
LOAD = {"kind": "measured", "path": "/data/h.csv", "column": "load_kw"}
TARIFF = {"import_fixed_eur_per_kwh": 0.3, "feed_in_tariff_eur_per_kwh": 0.08}
BASE = {
    "name": "t",
    "market": {"zone": "DE-LU", "prices": {"path": "/data/x.csv"}},
    "sites": [{"site_id": "home", "battery": BATTERY, "load": LOAD, "tariff": TARIFF}],
}


def _with(**site_keys: object) -> dict:
    data = copy.deepcopy(BASE)
    data["sites"][0].update(site_keys)
    return data


def test_a_home_with_load_and_tariff_parses() -> None:
    sc = parse_scenario(BASE)
    assert sc.sites[0].behind_the_meter
    assert sc.strategy_of(sc.sites[0]).kind == "arbitrage"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tariff": None}, r"site home: a site with a load or PV needs a tariff"),
        ({"load": {"kind": "bdew", "path": "/x.csv"}}, r"profile and annual_kwh are required for a bdew load"),
        ({"load": {"kind": "measured", "path": "/x.csv"}}, r"column is required for a measured load"),
        ({"pv": {"kind": "pvlib"}}, r"system is required for pvlib PV"),
        ({"pv": {"kind": "measured", "path": "/x.csv", "column": "pv_kw", "forecast": "weather"}}, r"forecast: weather needs kind: pvlib"),
        ({"load": {"kind": "measured", "path": "/x.csv", "column": "kw", "forecast": "prophet"}}, r"sites\.0\.load\.forecast = 'prophet'"),
        ({"grid": {"feed_in_limit_fraction_of_kwp": 0.7}}, r"feed_in_limit_fraction_of_kwp needs a pvlib PV system"),
        ({"tariff": {"import_fixed_eur_per_kwh": -1}}, r"sites\.0\.tariff\.import_fixed_eur_per_kwh = -1"),
        ({"strategy": {"kind": "load_balancing"}}, r"load_balancing needs load_balancing_eur_per_kw > 0"),
        ({"strategy": {"kind": "stacked", "horizon_h": 48}}, r"horizon_h \(48\.0\) must equal strategy\.horizon_h"),
        ({"strategy": {"kind": "cheapest"}}, r"sites\.0\.strategy\.kind = 'cheapest'"),
    ],
)
def test_bad_ems_values_name_the_key(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_scenario(_with(**change))


def test_intraday_is_refused_for_behind_the_meter_sites() -> None:
    data = copy.deepcopy(BASE)
    data["market"]["intraday"] = {"enabled": True, "mark": "day_ahead"}
    with pytest.raises(ConfigError, match="intraday trading is for day-ahead arbitrage sites"):
        parse_scenario(data)


def test_unknown_strategy_option_exits_2() -> None:
    result = CliRunner().invoke(app, ["backtest", "scenarios/quickstart.yaml", "--strategy", "cheapest"])
    assert result.exit_code == 2
    assert "--strategy 'cheapest' is not known" in result.output


def test_missing_load_file_exits_2_before_work(tmp_path, monkeypatch) -> None:
    import yaml

    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path))
    (tmp_path / "p.csv").write_text("timestamp_utc,price_de_lu_eur_per_mwh\n")
    data = copy.deepcopy(BASE)
    data["market"]["prices"]["path"] = str(tmp_path / "p.csv")
    data["sites"][0]["load"]["path"] = str(tmp_path / "missing.csv")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["backtest", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "sites.home.load.path: data file not found" in result.output
    assert not (tmp_path / "out").exists()
