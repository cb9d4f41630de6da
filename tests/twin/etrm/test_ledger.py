"""The hash-chained ledger: every kind of tampering is found and named (property test)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.etrm.ledger import GENESIS, Ledger, verify


def _ledger(path, n):
    ledger = Ledger(path)
    for i in range(n):
        ledger.append("trade", {"trade_id": i, "price_eur_per_mwh": 50.0 + i, "quantity_mwh": 0.1 * i})
    head = ledger.head
    ledger.close()
    return head


def _sql(path, statement, *args):
    db = sqlite3.connect(path)
    db.execute(statement, args)
    db.commit()
    db.close()


def test_an_untouched_ledger_verifies_and_reopens_at_its_head(tmp_path):
    path = tmp_path / "ledger.sqlite"
    head = _ledger(path, 5)
    assert verify(path, head).ok and verify(path).entries == 5
    again = Ledger(path)
    assert again.head == head
    again.append("invoice", {"number": "INV-1"})
    again.close()
    assert verify(path).entries == 6
    assert Ledger(tmp_path / "empty.sqlite").head == GENESIS


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 12), data=st.data(), kind=st.sampled_from(["edit", "remove", "swap", "truncate"]))
def test_every_kind_of_tampering_is_named(tmp_path_factory, n, data, kind):
    path = tmp_path_factory.mktemp("l") / "ledger.sqlite"
    head = _ledger(path, n)
    i = data.draw(st.integers(1, n - 1))
    if kind == "edit":
        _sql(path, "UPDATE ledger SET payload = replace(payload, '50', '51') WHERE seq = ?", i)
        _sql(path, "UPDATE ledger SET payload = payload || ' ' WHERE seq = ?", i)
    elif kind == "remove":
        _sql(path, "DELETE FROM ledger WHERE seq = ?", i)
    elif kind == "swap":
        _sql(path, "UPDATE ledger SET seq = -1 WHERE seq = ?", i)
        _sql(path, "UPDATE ledger SET seq = ? WHERE seq = ?", i, i + 1)
        _sql(path, "UPDATE ledger SET seq = ? WHERE seq = -1", i + 1)
    else:
        _sql(path, "DELETE FROM ledger WHERE seq > ?", i)
    result = verify(path, head)
    assert not result.ok
    assert result.bad_seq is not None and str(result.bad_seq) in result.reason


def test_payload_must_be_json(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    with pytest.raises(ValueError, match="payload is not canonical JSON"):
        ledger.append("trade", {"price": float("nan")})


def test_cli_verify_exit_codes(tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    path = tmp_path / "ledger.sqlite"
    head = _ledger(path, 4)
    ok = runner.invoke(app, ["ledger", "verify", str(path), "--head", head])
    assert ok.exit_code == 0 and "ok: 4 entries" in ok.output
    _sql(path, "UPDATE ledger SET payload = payload || ' ' WHERE seq = 2")
    bad = runner.invoke(app, ["ledger", "verify", str(path)])
    assert bad.exit_code == 1 and "entry 2 (trade) was edited" in bad.output
    assert runner.invoke(app, ["ledger", "verify", str(tmp_path / "none.sqlite")]).exit_code == 2
