"""Journal durability: ack after commit, rebuild on restart, a kill -9 loop."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from twin.config.intraday import TradingPolicy
from twin.errors import SimulationError
from twin.io.journal import SqliteJournal
from twin.markets.exchange.commands import Cancel, JournalError, Modify, Submit
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import OrderRequest, Side, TimeInForce
from twin.markets.products import make_product

DAY = pd.Timestamp("2030-01-01T00:00Z")
PRODUCTS = [make_product("DE-LU", DAY + pd.Timedelta(hours=h), 60) for h in range(4)]
TRADERS = ["t0", "t1", "t2", "t3"]
T0 = int((DAY - pd.Timedelta(days=1)).value)
POLICY = TradingPolicy(per_market_rps=1e9)  # no throttle: the bucket is not journaled


def _open(path: Path | None, synchronous: str = "NORMAL") -> Exchange:
    journal = SqliteJournal(path, synchronous) if path is not None else None  # type: ignore[arg-type]
    ex = Exchange(journal, policy=POLICY)
    for t in TRADERS:
        ex.register(t, "trader")
    ex.open_products(PRODUCTS, T0)
    return ex


def _batch(ex: Exchange, rng: random.Random, size: int) -> list:
    """A deterministic batch from ``rng`` and the exchange's own state."""
    resting = sorted((o.order_id, o.participant) for o in ex.engine.open_orders())
    out: list = []
    for j in range(size):
        ts = T0 + (ex._seq + j + 1) * 1_000_000
        r = rng.random()
        if r < 0.2 and resting:
            oid, who = resting[rng.randrange(len(resting))]
            out.append(Cancel(who, oid, ts))
        elif r < 0.3 and resting:
            oid, who = resting[rng.randrange(len(resting))]
            out.append(Modify(who, oid, ts, rng.randint(4900, 5100) / 100, rng.randint(1, 9) / 10))
        else:
            out.append(
                Submit(
                    OrderRequest(
                        rng.choice(TRADERS),
                        rng.choice(PRODUCTS).product_id,
                        rng.choice([Side.BUY, Side.SELL]),
                        rng.randint(1, 9) / 10,
                        rng.randint(4900, 5100) / 100,
                        rng.choice([TimeInForce.GTC] * 4 + [TimeInForce.IOC, TimeInForce.FOK]),
                    ),
                    ts,
                )
            )
    return out


def test_restart_rebuilds_the_same_book(tmp_path: Path) -> None:
    path = tmp_path / "exchange.sqlite"
    ex = _open(path, "FULL")
    rng = random.Random(1)
    trades = 0
    for _ in range(30):
        trades += sum(len(a.trades) for a in ex.process(_batch(ex, rng, 25)))
    assert trades > 50
    before = ex.state_hash()
    ex.close()
    again = _open(path)
    assert again.state_hash() == before
    assert again.journal.count("trades") == trades
    assert again.journal.integrity_check() == "ok"


def test_a_journal_that_does_not_replay_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exchange.sqlite"
    ex = _open(path)
    ex.process(_batch(ex, random.Random(2), 200))
    ex.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE trades SET price_eur_per_mwh = price_eur_per_mwh + 1")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="replay gives"):
        _open(path)


def test_a_failed_commit_acknowledges_nothing_and_rolls_memory_back(tmp_path: Path) -> None:
    path = tmp_path / "exchange.sqlite"
    ex = _open(path)
    ex.process(_batch(ex, random.Random(3), 50))
    before = ex.state_hash()
    real_write = ex.journal.write

    def failing_write(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    ex.journal.write = failing_write  # type: ignore[method-assign]
    with pytest.raises(SimulationError, match="commit failed"):
        ex.process(_batch(ex, random.Random(4), 50))
    ex.journal.write = real_write  # type: ignore[method-assign]
    assert ex.state_hash() == before


def _child(path: str, seed: int, conn) -> None:  # runs in a forked process until killed
    ex = _open(Path(path))
    rng = random.Random(seed)
    while True:
        acks = ex.process(_batch(ex, rng, 20))
        conn.send((ex.journal.last_seq, [t.trade_id for a in acks for t in a.trades]))


ITERATIONS = int(os.environ.get("BESS_TWIN_KILL_ITERATIONS", "50"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_minus_nine_loses_no_acknowledged_order(tmp_path: Path) -> None:
    """Kill the exchange process at random moments; recover; compare to a reference run.

    The command stream is a function of the seed and the exchange's own state, so
    an in-memory reference exchange driven with the same seeds must reach the
    recovered journal's sequence number with the same state hash.
    """
    path = tmp_path / "exchange.sqlite"
    ctx = mp.get_context("fork")
    _open(path).close()  # participants and products are journaled before the first kill
    reference = _open(None)
    pace = random.Random(99)
    kills_mid_run, acked_iterations = 0, 0
    for iteration in range(ITERATIONS):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(str(path), iteration, child), daemon=True)
        proc.start()
        child.close()
        if iteration % 5 == 4:  # now and then, kill it while it is still replaying
            time.sleep(pace.uniform(0.0, 0.02))
        else:  # otherwise once orders flow, at a random moment
            parent.poll(30)
            time.sleep(pace.uniform(0.0, 0.03))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        acked_seq, acked_trades = 0, []
        while parent.poll():
            try:
                seq, trades = parent.recv()
            except (EOFError, OSError):
                break
            acked_seq, acked_trades = seq, acked_trades + trades
        parent.close()

        recovered = _open(path)  # replays and checks the journal against its trades
        assert recovered.journal.integrity_check() == "ok"
        last = recovered.journal.last_seq
        assert last >= acked_seq, "an acknowledged command was lost"
        kills_mid_run += last > acked_seq  # killed between commit and ack: allowed
        acked_iterations += acked_seq > 0
        ids = {row[0] for row in recovered.journal.trades()}
        assert set(acked_trades) <= ids, "an acknowledged trade was lost"
        rng = random.Random(iteration)
        while reference._seq < last:
            reference.process(_batch(reference, rng, 20))
        assert reference._seq == last  # commits are whole batches
        assert recovered.state_hash() == reference.state_hash()
        recovered.close()
    assert acked_iterations >= ITERATIONS * 3 // 4  # the kills landed while orders were flowing
    assert reference.engine.next_trade_id > 100
    print(f"kill -9: {ITERATIONS} iterations, {acked_iterations} with acks, "
          f"{kills_mid_run} between commit and ack, {reference.engine.next_trade_id - 1} trades")
