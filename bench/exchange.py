"""Exchange benchmarks (make bench): in-memory matching and the durable journal.

Mixed order stream as in the issue: 70 % resting limit orders, 20 % cancels of
resting orders, 10 % orders that cross the spread. Requests are built before the
clock starts (they arrive parsed from the wire); the timed loop is the engine.
Medians over repeats; the machine is printed with the figures. Not part of CI.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from twin.config.intraday import TradingPolicy
from twin.io.journal import SqliteJournal
from twin.markets.exchange.commands import Cancel, Submit
from twin.markets.exchange.engine import MatchingEngine
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import OrderRequest, Side, TimeInForce
from twin.markets.products import make_product

PRODUCTS = [f"DE-LU:2031-06-14T{h:02d}:00Z:60" for h in range(24)]
T0 = 1_686_700_000_000_000_000


def mixed_stream(n: int, seed: int = 0) -> list[tuple]:
    """``n`` commands: ("add", request) or ("cancel", participant, index of an earlier add)."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    products = rng.integers(0, len(PRODUCTS), n)
    sides = rng.integers(0, 2, n)
    offsets = rng.integers(1, 200, n)  # ticks away from the mid, resting
    lots = rng.integers(1, 50, n)
    participants = [f"p{i}" for i in range(20)]
    who = rng.integers(0, len(participants), n)
    out: list[tuple] = []
    adds = 0
    for i in range(n):
        side = Side.BUY if sides[i] else Side.SELL
        if kinds[i] == 1 and adds:
            out.append(("cancel", int(rng.integers(0, adds))))
            continue
        mid = 5000
        if kinds[i] == 0:
            price = mid - offsets[i] if side is Side.BUY else mid + offsets[i]
        else:  # crossing: through the best few levels of the other side
            price = mid + 30 if side is Side.BUY else mid - 30
        out.append(
            (
                "add",
                OrderRequest(
                    participants[who[i]],
                    PRODUCTS[products[i]],
                    side,
                    int(lots[i]) / 1000,
                    int(price) / 100,
                    TimeInForce.GTC if kinds[i] == 0 else TimeInForce.IOC,
                ),
            )
        )
        adds += 1
    return out


def run_in_memory(stream: list[tuple], timed: bool) -> tuple[float, list[float], int]:
    """Orders/s over the stream, per-add latencies (s, when ``timed``), and trades.

    Throughput comes from untimed runs: two clock reads per order would cost
    about 10 % of it. Latencies come from separate timed runs.
    """
    engine = MatchingEngine()
    for product in PRODUCTS:
        engine.open_product(product)
    submit, cancel = engine.submit, engine.cancel
    ids: list[tuple[str, int]] = []
    lat: list[float] = []
    trades = 0
    clock = time.perf_counter
    started = clock()
    ts = T0
    for cmd in stream:
        ts += 1000
        if cmd[0] == "add":
            if timed:
                t = clock()
                ex = submit(cmd[1], ts)
                lat.append(clock() - t)
            else:
                ex = submit(cmd[1], ts)
            ids.append((cmd[1].participant, ex.result.order_id))
            trades += len(ex.trades)
        else:
            who, oid = ids[cmd[1]]
            cancel(who, oid, ts)
    elapsed = clock() - started
    return len(stream) / elapsed, lat, trades


def run_durable(
    stream: list[tuple], batch: int, synchronous: str, folder: Path
) -> float:
    """Orders/s through the full exchange (checks, engine, events, SQLite journal).

    ``batch`` commands share one transaction (group commit); ``batch=1`` is one
    commit per order. Cancels name orders acknowledged in earlier batches.
    """
    path = folder / f"bench-{batch}-{synchronous}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    policy = TradingPolicy(per_market_rps=1e12)
    ex = Exchange(SqliteJournal(path, synchronous), policy=policy)  # type: ignore[arg-type]
    for i in range(20):
        ex.register(f"p{i}", "trader")
    ex.open_products([_product(k) for k in range(24)], T0)
    ids: list[tuple[str, int]] = []
    clock = time.perf_counter
    started = clock()
    ts = T0
    pending: list = []
    for cmd in stream:
        ts += 1000
        if cmd[0] == "add":
            pending.append(Submit(cmd[1], ts))
        elif cmd[1] < len(ids):
            who, oid = ids[cmd[1]]
            pending.append(Cancel(who, oid, ts))
        if len(pending) >= batch:
            for command, ack in zip(pending, ex.process(pending), strict=True):
                if isinstance(command, Submit) and ack.order is not None:
                    ids.append((ack.order.participant, ack.order.order_id))
            pending.clear()
    if pending:
        ex.process(pending)
    elapsed = clock() - started
    ex.close()
    return len(stream) / elapsed


def _product(hour: int):
    """The product named ``PRODUCTS[hour]``, gate closure far after the stream."""
    return make_product("DE-LU", pd.Timestamp(PRODUCTS[hour].split(":", 1)[1].rsplit(":", 1)[0]), 60)


def main() -> None:
    n = int(os.environ.get("BENCH_ORDERS", "200000"))
    stream = mixed_stream(n)
    rates, p99s, p50s = [], [], []
    for _ in range(5):
        rate, _, trades = run_in_memory(stream, timed=False)
        rates.append(rate)
        _, lat, _ = run_in_memory(stream, timed=True)
        p50s.append(float(np.percentile(lat, 50)) * 1e6)
        p99s.append(float(np.percentile(lat, 99)) * 1e6)
    out = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}",
        "in_memory_orders_per_s": round(statistics.median(rates)),
        "in_memory_add_p50_us": round(statistics.median(p50s), 2),
        "in_memory_add_p99_us": round(statistics.median(p99s), 2),
        "trades": trades,
    }
    durable_n = min(n, 60_000)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        for sync in ("FULL", "NORMAL"):
            group = [run_durable(stream[:durable_n], 500, sync, Path(tmp)) for _ in range(3)]
            out[f"durable_group_commit_500_{sync.lower()}_orders_per_s"] = round(
                statistics.median(group)
            )
            single = [run_durable(stream[:3000], 1, sync, Path(tmp)) for _ in range(3)]
            out[f"durable_one_commit_per_order_{sync.lower()}_orders_per_s"] = round(
                statistics.median(single)
            )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
