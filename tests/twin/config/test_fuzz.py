"""Any YAML a user can write loads or fails with a ConfigError naming what is wrong, never a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.config import load_scenario
from twin.errors import ScenarioError

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**40, 10**40), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(["${NOPE_UNSET}", "${BESS_TWIN_DATA}/x.csv", ".inf", "~", "1e400"]),
)
trees = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(
    st.sampled_from(["name", "market", "sites", "battery", "energy_kwh", "prices", "path", "site_id",
                     "device", "kind", "actor_options", "intraday", "policy", "live", "x"]), c, max_size=5),
    max_leaves=25)
KEYS = {
    "name": st.text(max_size=10),
    "market": st.fixed_dictionaries({"prices": st.fixed_dictionaries({"path": st.text(max_size=12)})}) | trees,
    "sites": st.lists(st.fixed_dictionaries({"site_id": st.text(max_size=8), "battery": trees,
                                             "device": trees}), max_size=3) | trees,
}


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(trees, st.fixed_dictionaries(KEYS, optional={"backtest": trees, "live": trees})))
def test_random_scenarios_load_or_exit_2(tmp_path_factory, monkeypatch, document):
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    path = tmp_path_factory.mktemp("yaml") / "s.yaml"
    try:
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
    except yaml.YAMLError:
        return
    try:
        load_scenario(path, check_files=False)
    except ScenarioError as err:
        assert str(err).strip()  # noqa: PT017 - either outcome is allowed, a traceback is not


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_random_bytes_load_or_exit_2(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("bytes") / "s.yaml"
    path.write_bytes(raw)
    try:
        load_scenario(path, check_files=False)
    except ScenarioError as err:
        assert str(err).strip()  # noqa: PT017 - either outcome is allowed, a traceback is not
