"""Intraday trades of a backtest: the ``trades.parquet`` table and the P&L summary.

Every trade has a buyer and a seller; a seller receives ``quantity * price``
and a buyer pays it, and both pay the fee per MWh. Summed over all
participants (sites and the liquidity provider) trade cash is zero; the
summary reports each participant's cash, fees and net position so that the
books can be checked to add up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from twin.markets.exchange.session import SessionResult

TRADES_COLUMNS = [
    "trade_id",
    "delivery_date",
    "product",
    "delivery_start_utc",
    "buyer",
    "seller",
    "quantity_mwh",
    "price_eur_per_mwh",
    "value_eur",
    "fee_per_side_eur",
    "aggressor",
    "traded_utc",
]
"""Columns of ``trades.parquet`` (one row per trade)."""


def trades_table(
    sessions: list[SessionResult | None], fee_eur_per_mwh: float
) -> pd.DataFrame:
    """One row per trade of every session, columns :data:`TRADES_COLUMNS`.

    Parameters
    ----------
    sessions : list of SessionResult or None
        One per delivery day.
    fee_eur_per_mwh : float
        Fee per side. [EUR/MWh]
    """
    rows = []
    for session in sessions:
        if session is None:
            continue
        starts = {p.product_id: p.delivery_start for p in session.products}
        for t in session.trades:
            q = t.quantity_lots * session.lot_mwh
            start = starts[t.product]
            rows.append(
                {
                    "trade_id": t.trade_id,
                    "delivery_date": pd.Timestamp(session.products[0].delivery_start),
                    "product": t.product,
                    "delivery_start_utc": start,
                    "buyer": t.buyer,
                    "seller": t.seller,
                    "quantity_mwh": q,
                    "price_eur_per_mwh": t.price_eur_per_mwh,
                    "value_eur": q * t.price_eur_per_mwh,
                    "fee_per_side_eur": q * fee_eur_per_mwh,
                    "aggressor": str(t.aggressor),
                    "traded_utc": pd.Timestamp(t.ts_ns, tz="UTC"),
                }
            )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRADES_COLUMNS})
    return pd.DataFrame(rows, columns=TRADES_COLUMNS)


def trading_summary(sessions: list[SessionResult | None], marks: dict[str, float]) -> dict[str, Any]:
    """Cash, fees, traded energy and net position per participant over all sessions.

    Parameters
    ----------
    sessions : list of SessionResult or None
    marks : dict of str to float
        Mark price per product id, to value a trader's open position. [EUR/MWh]

    Returns
    -------
    dict
        ``participants``: per name ``cash_eur``, ``fees_eur``, ``sold_mwh``,
        ``bought_mwh``, ``net_sell_mwh``, ``marked_pnl_eur`` (cash minus fees
        plus the net position valued at the marks); ``trades``; ``traded_mwh``;
        ``cash_sum_eur`` (zero when the books add up); ``rejection_reasons``:
        rejected orders per reason (an order counts under each of its reasons).
    """
    out: dict[str, dict[str, float]] = {}
    trades, traded = 0, 0.0
    reasons: dict[str, int] = {}
    for session in sessions:
        if session is None:
            continue
        trades += len(session.trades)
        traded += sum(t.quantity_lots for t in session.trades) * session.lot_mwh
        for who, r in session.participants.items():
            acc = out.setdefault(
                who,
                {"cash_eur": 0.0, "fees_eur": 0.0, "sold_mwh": 0.0, "bought_mwh": 0.0,
                 "net_sell_mwh": 0.0, "marked_pnl_eur": 0.0, "rejected_orders": 0.0},
            )
            acc["cash_eur"] += float(r.cash_eur.sum())
            acc["fees_eur"] += float(r.fees_eur.sum())
            acc["sold_mwh"] += float(np.clip(r.sell_mwh, 0, None).sum())
            acc["bought_mwh"] += float(np.clip(-r.sell_mwh, 0, None).sum())
            acc["net_sell_mwh"] += float(r.sell_mwh.sum())
            position_value = sum(
                -float(r.sell_mwh[k]) * marks.get(p.product_id, 0.0)
                for k, p in enumerate(session.products)
            )
            acc["marked_pnl_eur"] += float(r.cash_eur.sum() - r.fees_eur.sum()) + position_value
            acc["rejected_orders"] += float(r.rejected_orders)
            for reason, count in r.rejected.items():
                reasons[reason] = reasons.get(reason, 0) + count
    return {
        "trades": trades,
        "traded_mwh": traded,
        "cash_sum_eur": sum(p["cash_eur"] for p in out.values()),
        "participants": out,
        "rejection_reasons": dict(sorted(reasons.items())),
    }


REJECTIONS_COLUMNS = ["delivery_date", "participant", "product", "reasons", "message"]
"""Columns of ``rejections.parquet`` (one row per rejected order)."""


def rejections_table(sessions: list[SessionResult | None]) -> pd.DataFrame:
    """Every rejected order of the run with all its reasons ('+'-joined) and the message naming them."""
    rows = [
        {"delivery_date": pd.Timestamp(s.products[0].delivery_start), "participant": who,
         "product": product, "reasons": reasons, "message": message}  # fmt: skip
        for s in sessions
        if s is not None
        for who, r in s.participants.items()
        for product, reasons, message in r.rejections
    ]
    return pd.DataFrame(rows, columns=REJECTIONS_COLUMNS)
