"""Scenario config: valid files load, bad values name key, value and fix."""

from __future__ import annotations

import copy

import pytest

from twin.config import BatterySpec, expand_env, load_scenario, parse_scenario
from twin.errors import ConfigError, DataError

BASE = {
    "name": "t",
    "market": {"zone": "AT", "prices": {"path": "${BESS_TWIN_DATA}/x.csv"}},
    "sites": [{"site_id": "a", "battery": {"energy_kwh": 10, "p_charge_max_kw": 5, "p_discharge_max_kw": 5}}],
}


def with_change(path: str, value):
    data = copy.deepcopy(BASE)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    node[keys[-1]] = value
    return data


def test_env_expansion(monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", "/data")
    assert str(parse_scenario(BASE).market.prices.path) == "/data/x.csv"


def test_missing_env_var_names_it(monkeypatch):
    monkeypatch.delenv("BESS_TWIN_DATA", raising=False)
    with pytest.raises(ConfigError, match="BESS_TWIN_DATA is not set; export BESS_TWIN_DATA="):
        parse_scenario(BASE)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("sites.0.battery.soc_min", 1.0, r"sites\.0\.battery.*soc_min \(1\.0\) must be less than soc_max \(1\.0\)"),
        ("sites.0.battery", {"energy_kwh": 1, "p_charge_max_kw": 1, "p_discharge_max_kw": 1, "soc_min": 0.2,
                             "soc_initial": 0.1}, r"soc_initial \(0\.1\) must lie within \[soc_min, soc_max\]"),
        ("sites.0.battery.eta_charge", 1.2, r"sites\.0\.battery\.eta_charge = 1\.2: Input should be less than or equal to 1"),
        ("sites.0.battery.energy_kwh", -5, r"energy_kwh = -5: Input should be greater than 0"),
        ("sites.0.battery.p_charge_max_kw", 0, r"p_charge_max_kw = 0"),
        ("sites.0.battery.capacity", 3, r"sites\.0\.battery\.capacity = 3: unknown key"),
        ("market.timezone", "Mars/Olympus", r"market\.timezone = 'Mars/Olympus': unknown time zone"),
        ("strategy", {"forecaster": "oracle"}, r"strategy\.forecaster = 'oracle'"),
        ("strategy", {"horizon_h": 12}, r"strategy\.horizon_h = 12"),
        ("backtest", {"start": "2023-02-01", "end": "2023-01-01"}, r"end \(2023-01-01\) is before start"),
    ],
)
def test_bad_values_name_key_value_and_rule(monkeypatch, path, value, message):
    monkeypatch.setenv("BESS_TWIN_DATA", "/data")
    with pytest.raises(ConfigError, match=message):
        parse_scenario(with_change(path, value), source="s.yaml")


def test_duplicate_site_ids(monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", "/data")
    data = copy.deepcopy(BASE)
    data["sites"].append(copy.deepcopy(data["sites"][0]))
    with pytest.raises(ConfigError, match="repeated: a"):
        parse_scenario(data)


def test_missing_key_and_bad_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsites: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_scenario(bad)
    bad.write_text("name: x\n")
    with pytest.raises(ConfigError, match="market: required key is missing"):
        load_scenario(bad)
    with pytest.raises(ConfigError, match="scenario file not found"):
        load_scenario(tmp_path / "none.yaml")


def test_missing_data_file_hints_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path))
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(BASE))
    with pytest.raises(DataError, match=r"data file not found: .*x\.csv[\s\S]*BESS_TWIN_DATA"):
        load_scenario(path)


def test_spec_is_frozen_and_derives_energy_window():
    spec = BatterySpec(energy_kwh=200, p_charge_max_kw=1, p_discharge_max_kw=1, soc_min=0.1, soc_max=0.9)
    assert (spec.e_min_kwh, spec.e_max_kwh) == (20, 180)
    with pytest.raises(Exception, match="frozen"):
        spec.energy_kwh = 1


def test_expand_env_leaves_plain_text():
    assert expand_env("/plain/path") == "/plain/path"


MQTT_SITE = {"site_id": "m", "battery": {"energy_kwh": 10, "p_charge_max_kw": 5, "p_discharge_max_kw": 5},
             "device": {"kind": "mqtt", "username": "ems"}}


def _with_device(**device) -> dict:
    return {"name": "s", "market": {"prices": {"path": "/x.csv"}},
            "sites": [{**MQTT_SITE, "device": {**MQTT_SITE["device"], **device}}]}


def test_mqtt_password_never_comes_from_yaml():
    with pytest.raises(ConfigError, match="secrets are never read from YAML; set password_env"):
        parse_scenario(_with_device(password="hunter2"))


def test_mqtt_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("SITE_M_MQTT_PASSWORD", "hunter2")
    scenario = parse_scenario(_with_device(password_env="SITE_M_MQTT_PASSWORD"))
    secret = scenario.sites[0].device.password()
    assert secret.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(secret) and "hunter2" not in scenario.model_dump_json()


def test_unset_password_env_is_a_config_error(monkeypatch):
    monkeypatch.delenv("SITE_M_MQTT_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="password_env = 'SITE_M_MQTT_PASSWORD': environment variable SITE_M_MQTT_PASSWORD is not set"):
        parse_scenario(_with_device(password_env="SITE_M_MQTT_PASSWORD"))


def test_expand_env_is_strict(monkeypatch):
    monkeypatch.setenv("A_SET_VAR", "/data")
    assert expand_env("${A_SET_VAR}/x.csv") == "/data/x.csv"
    assert expand_env("$A_SET_VAR/x") == "$A_SET_VAR/x"  # only ${VAR} is a reference
    monkeypatch.delenv("AN_UNSET_VAR", raising=False)
    with pytest.raises(ValueError, match="AN_UNSET_VAR is not set"):
        expand_env("${AN_UNSET_VAR}/x")


def test_unknown_actor_option_names_the_allowed_ones():
    data = {"name": "s", "market": {"prices": {"path": "/x.csv"}},
            "sites": [{**MQTT_SITE, "device": {"kind": "simulated"}, "actor_options": {"num_cpu": 1}}]}
    with pytest.raises(ConfigError, match=r"unknown actor option 'num_cpu'; allowed: .*num_cpus"):
        parse_scenario(data)
