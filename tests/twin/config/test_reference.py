"""The scenario YAML reference in docs/ is generated from the models and must be current."""

from __future__ import annotations

from pathlib import Path

from twin.config import Scenario
from twin.config.base import FrozenModel
from twin.config.reference import attribute_docs, render_reference

DOC = Path(__file__).resolve().parents[3] / "docs" / "scenario-reference.md"


def test_committed_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == render_reference(Scenario), (
        "docs/scenario-reference.md is stale: run `bess-twin scenario-reference`"
    )


def test_every_key_is_documented():
    rows = [line for line in render_reference(Scenario).splitlines() if line.startswith("| `")]
    assert len(rows) > 100
    undocumented = [row for row in rows if row.rstrip().endswith("|  |")]
    assert undocumented == []


def test_reference_names_the_new_keys():
    text = render_reference(Scenario)
    for key in ("`strict`", "`password_env`", "`keepalive_s`", "`policy`", "`publication_delay_min`",
                "`price_poll_interval_s`", "`token_env`", "`actor_options`", "`imbalance`"):
        assert key in text


def test_a_change_to_a_model_changes_the_reference():
    class Tiny(FrozenModel):
        """A block.

        Attributes
        ----------
        a, b : float
            Two numbers. [kW]
        """

        a: float = 1.0
        b: float = 2.0

    assert "| `a` | number | `1.0` |  | Two numbers. [kW] |" in render_reference(Tiny)
    assert attribute_docs(Tiny.__doc__ or "") == {"a": "Two numbers. [kW]", "b": "Two numbers. [kW]"}
