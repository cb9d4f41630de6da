"""A naive reference of the matching rules, for differential tests.

Every resting order lives in one flat list; each match re-sorts the candidates
by (price, priority). Slow and obviously right, it shares no code with
``twin.markets.exchange.orderbook``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RefOrder:
    order_id: int
    participant: str
    product: str
    side: str
    price: int
    quantity: int
    open: int
    tif: str
    priority: int
    filled: int = 0
    cancelled: int = 0
    status: str = "ACCEPTED"


class ReferenceExchange:
    def __init__(self, price_rule: str = "maker", self_trade: str = "cancel_newest") -> None:
        self.price_rule = price_rule
        self.self_trade = self_trade
        self.resting: list[RefOrder] = []
        self.orders: dict[int, RefOrder] = {}
        self.trades: list[tuple[int, int, int, float]] = []
        self.next_id = 1
        self.priority = 0

    def _candidates(self, taker: RefOrder) -> list[RefOrder]:
        other = "SELL" if taker.side == "BUY" else "BUY"
        cands = [o for o in self.resting if o.side == other and o.product == taker.product]
        if other == "SELL":
            cands = [o for o in cands if o.price <= taker.price]
            cands.sort(key=lambda o: (o.price, o.priority))
        else:
            cands = [o for o in cands if o.price >= taker.price]
            cands.sort(key=lambda o: (-o.price, o.priority))
        return cands

    def _match(self, taker: RefOrder) -> None:
        cands = self._candidates(taker)
        if taker.tif == "FOK":
            avail = 0
            for o in cands:
                if o.participant == taker.participant:
                    if self.self_trade == "cancel_newest":
                        break
                    continue
                avail += o.open
            if avail < taker.open:
                taker.cancelled += taker.open
                taker.open = 0
                taker.status = "CANCELLED"
                return
        for maker in cands:
            if taker.open == 0:
                break
            if maker.participant == taker.participant:
                if self.self_trade == "cancel_newest":
                    taker.cancelled += taker.open
                    taker.open = 0
                    taker.status = "CANCELLED"
                    return
                self.resting.remove(maker)
                maker.cancelled += maker.open
                maker.open = 0
                maker.status = "CANCELLED"
                continue
            q = min(taker.open, maker.open)
            price = maker.price if self.price_rule == "maker" else (maker.price + taker.price) / 2
            for o in (taker, maker):
                o.open -= q
                o.filled += q
                o.status = "FILLED" if o.open == 0 else "PARTIALLY_FILLED"
            buy, sell = (taker, maker) if taker.side == "BUY" else (maker, taker)
            self.trades.append((buy.order_id, sell.order_id, q, price))
            if maker.open == 0:
                self.resting.remove(maker)
        if taker.open:
            if taker.tif == "GTC":
                self.resting.append(taker)
            else:
                taker.cancelled += taker.open
                taker.open = 0
                taker.status = "CANCELLED"

    def submit(self, participant, product, side, price, quantity, tif) -> int:
        self.priority += 1
        o = RefOrder(self.next_id, participant, product, side, price, quantity, quantity, tif,
                     self.priority)
        self.next_id += 1
        self.orders[o.order_id] = o
        self._match(o)
        return o.order_id

    def cancel(self, participant: str, order_id: int) -> bool:
        o = self.orders.get(order_id)
        if o is None or o.participant != participant or o not in self.resting:
            return False
        self.resting.remove(o)
        o.cancelled += o.open
        o.open = 0
        o.status = "CANCELLED"
        return True

    def modify(self, participant: str, order_id: int, price: int | None, quantity: int | None) -> bool:
        o = self.orders.get(order_id)
        if o is None or o.participant != participant or o not in self.resting:
            return False
        new_price = o.price if price is None else price
        new_open = o.open if quantity is None else quantity
        if new_price == o.price and new_open <= o.open:
            o.cancelled += o.open - new_open
            o.open = new_open
            return True
        self.resting.remove(o)
        if new_open < o.open:
            o.cancelled += o.open - new_open
        else:
            o.quantity += new_open - o.open
        o.open, o.price = new_open, new_price
        self.priority += 1
        o.priority = self.priority
        self._match(o)
        return True
