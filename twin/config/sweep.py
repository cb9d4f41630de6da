"""Parameter sweeps: a scenario's sites times the Cartesian product of a parameter grid, as one fleet.

``--grid battery.energy_kwh=200,400 --grid strategy.terminal_soc.policy=free,target``
makes 4 parameter sets; every site of the scenario runs once per set, as site
``<site_id>.p<k>``, all in one backtest (one market, one forecast service, one
fleet of site groups). Only per-site keys can vary this way: ``battery.*``,
``dynamics.*`` and ``strategy.*`` (the site's own strategy, starting from the
scenario's). Keys of the whole run (the market, the horizon) need separate
backtests.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from twin.config import Scenario
from twin.config.site import SiteConfig
from twin.errors import ConfigError

SWEEPABLE = ("battery", "dynamics", "strategy")
"""Top-level site keys a sweep may vary."""

RUN_WIDE = {"strategy.horizon_h": "the planning horizon is the run's (one market clock)"}
"""Keys under a sweepable prefix that still belong to the whole run, and why."""

SET_SEPARATOR = ".p"
"""Between a site's id and its parameter set's number: ``vienna.p003``."""


@dataclass(frozen=True)
class SweepAxis:
    """One ``--grid key=v1,v2`` option: a dotted site key and its values."""

    key: str
    values: tuple[Any, ...]


def parse_grid(options: list[str]) -> list[SweepAxis]:
    """Parse ``key=v1,v2,...`` options; each value is read as YAML (``100`` is a number, ``free`` a string).

    Raises
    ------
    ConfigError
        If an option has no ``=``, no values, a repeated key, or a key outside
        ``battery.*``, ``dynamics.*`` and ``strategy.*`` (or a run-wide one).
    """
    if not options:
        raise ConfigError("--grid: give at least one axis, e.g. --grid battery.energy_kwh=200,400")
    axes: list[SweepAxis] = []
    for option in options:
        key, sep, raw = option.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--grid {option!r}: write key=value1,value2 (e.g. battery.energy_kwh=200,400)")
        if key.split(".")[0] not in SWEEPABLE or "." not in key:
            raise ConfigError(
                f"--grid {key!r}: only per-site keys can be swept in one run: "
                f"{', '.join(p + '.<field>' for p in SWEEPABLE)}; run separate backtests for other keys"
            )
        if key in RUN_WIDE:
            raise ConfigError(f"--grid {key!r}: {RUN_WIDE[key]}; run separate backtests for it")
        if any(axis.key == key for axis in axes):
            raise ConfigError(f"--grid {key!r} is given twice; list all its values in one option")
        values = tuple(yaml.safe_load(v) for v in raw.split(",") if v.strip())
        if not values:
            raise ConfigError(f"--grid {key!r} has no values; write {key}=value1,value2")
        axes.append(SweepAxis(key, values))
    return axes


def parameter_sets(axes: list[SweepAxis]) -> list[dict[str, Any]]:
    """The Cartesian product of the axes, in order: one ``{key: value}`` per set."""
    return [dict(zip((a.key for a in axes), combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]


def _set_key(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--grid {dotted!r}: {part!r} is not a section (it holds {child!r})")
        node = child
    node[parts[-1]] = value


def expand(scenario: Scenario, axes: list[SweepAxis]) -> tuple[Scenario, list[dict[str, Any]]]:
    """The sweep as one scenario: every site once per parameter set.

    Parameters
    ----------
    scenario : Scenario
    axes : list of SweepAxis

    Returns
    -------
    Scenario
        The same run with ``len(sites) * len(sets)`` sites named ``<site_id>.p<k>``.
    list of dict
        One row per swept site: ``site_id``, ``base_site_id``, ``parameter_set``
        and the set's values under their keys.

    Raises
    ------
    ConfigError
        If a value is invalid for its key (names the key, the value and the site).
    """
    sets = parameter_sets(axes)
    width = max(len(str(len(sets) - 1)), 3)
    sites: list[SiteConfig] = []
    rows: list[dict[str, Any]] = []
    for site in scenario.sites:
        base = site.model_dump(mode="python", exclude_computed_fields=True)
        base["strategy"] = scenario.strategy_of(site).model_dump(mode="python", exclude_computed_fields=True)
        for k, values in enumerate(sets):
            data = copy.deepcopy({**base, "site_id": f"{site.site_id}{SET_SEPARATOR}{k:0{width}d}"})
            for key, value in values.items():
                _set_key(data, key, value)
            try:
                sites.append(SiteConfig.model_validate(data))
            except ValidationError as err:
                first = err.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ConfigError(
                    f"--grid: parameter set {k} {values} is invalid for site {site.site_id}: {where}: {first['msg']}"
                ) from None
            rows.append({"site_id": data["site_id"], "base_site_id": site.site_id, "parameter_set": k, **values})
    return scenario.model_copy(update={"sites": sites}), rows

