"""The internal exchange: pre-trade checks, matching engine, journal and event stream.

A batch of commands runs through the in-memory engine, then is written to the
journal in one transaction (group commit) and acknowledged only after the
commit. If the commit fails the engine is rebuilt from the journal, so memory
never runs ahead of what is durable. On start the exchange replays its journal
and checks that the replay gives back every journaled trade.

Events (``order_accepted``, ``order_rejected``, ``order_cancelled``,
``order_modified``, ``trade``, ``book``, ``product_opened``,
``product_closed``) are numbered and kept in a ring buffer for
:meth:`Exchange.events_since`; the API forwards them over WebSocket.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Any

from twin.config.intraday import TradingPolicy
from twin.errors import SimulationError
from twin.markets.exchange.commands import (
    Ack,
    Cancel,
    Command,
    Event,
    JournalError,
    Modify,
    ParticipantKind,
    Submit,
)
from twin.markets.exchange.engine import EngineConfig, Execution, MatchingEngine
from twin.markets.exchange.journal import CommandRow, JournalStore, trade_row
from twin.markets.exchange.limits import LimitBook, OrderContext, check_limits
from twin.markets.exchange.limits import power_kw as limit_power_kw
from twin.markets.exchange.orders import (
    Order,
    OrderRequest,
    Rejection,
    RejectReason,
    Side,
    TimeInForce,
    Trade,
    Venue,
)
from twin.markets.exchange.pretrade import (
    Position,
    SiteTradingState,
    TokenBucket,
    check_deliverable,
    temperature_check,
)
from twin.markets.products import NS_PER_S, Product, market_of

MAX_ID_CHARS = 64
"""Longest participant name or client order id. [characters]"""

MAX_TS_NS = 2**63 - 1
"""Latest exchange timestamp: the largest 64-bit integer the journal stores. [ns]"""


def _shown(value: object) -> str:
    """A short printable form of any field value, for messages and the journal."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_ID_CHARS else text[:MAX_ID_CHARS] + "..."


def _worst_net_sell(position: Position, side: Side) -> float:
    """Net sell in a product if every open order of ``side`` fills and none of the other side. [MWh]"""
    if side is Side.SELL:
        return position.sell_filled_mwh + position.sell_open_mwh - position.buy_filled_mwh
    return position.sell_filled_mwh - position.buy_filled_mwh - position.buy_open_mwh


def _safe_ts(command: Command) -> int:
    ts_ns = getattr(command, "ts_ns", 0)
    valid = isinstance(ts_ns, int) and not isinstance(ts_ns, bool) and 0 <= ts_ns <= MAX_TS_NS
    return ts_ns if valid else 0


class Exchange:
    """The internal continuous market of the twin.

    Parameters
    ----------
    journal : JournalStore, optional
        Durable journal (``twin.io.journal.SqliteJournal``); without it the
        exchange is in memory only.
    engine : EngineConfig, optional
    policy : TradingPolicy, optional
    max_events : int
        Events kept for :meth:`events_since`.
    limits : LimitBook, optional
        Credit, VaR, position and grid limits of the pre-trade check
        (:mod:`twin.markets.exchange.limits`); none by default.

    Raises
    ------
    JournalError
        If an existing journal does not replay to the trades it records.
    """

    def __init__(
        self,
        journal: JournalStore | None = None,
        engine: EngineConfig | None = None,
        policy: TradingPolicy | None = None,
        max_events: int = 100_000,
        limits: LimitBook | None = None,
    ) -> None:
        self.engine = MatchingEngine(engine)
        self.limits = limits or LimitBook()
        self.policy = policy or TradingPolicy()
        self.products: dict[str, Product] = {}
        self.participants: dict[str, ParticipantKind] = {}
        self.sites: dict[str, SiteTradingState] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._keys: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._client_ids: set[tuple[str, str]] = set()
        self._events: deque[Event] = deque(maxlen=max_events)
        self._event_seq = 0
        self.journal = journal
        self._seq = 0
        self._pending: list[CommandRow] = []
        self._pending_trades: list[tuple[int, Trade]] = []
        self._pending_rejections: list[tuple[int, str, str, str]] = []
        if self.journal is not None and self.journal.last_seq:
            self._replay()

    # --- administration (journaled) --------------------------------------------------
    def register(self, participant: str, kind: ParticipantKind = "site") -> None:
        """Admit ``participant``; sites are checked for deliverability, traders are not."""
        if kind not in ("site", "trader"):
            raise ValueError(f"participant kind {kind!r}: choose site or trader")
        if self.participants.get(participant) == kind:
            return
        self._apply("register", 0, {"participant": participant, "kind": kind})
        self._commit()

    def open_products(self, products: list[Product], ts_ns: int) -> None:
        """Open continuous trading of ``products`` (one commit for all)."""
        for product in products:
            if product.product_id in self.products and self.engine.books[product.product_id].open:
                continue
            self._apply(
                "open",
                ts_ns,
                {
                    "product_id": product.product_id,
                    "market": product.market,
                    "delivery_start_ns": product.delivery_start_ns,
                    "duration_min": product.duration_min,
                    "gate_closure_ns": product.gate_closure_ns,
                },
            )
        self._commit()

    def close_due(self, ts_ns: int) -> list[str]:
        """Close every open product whose gate closure is at or before ``ts_ns``."""
        due = [pid for pid, p in self.products.items() if p.gate_closure_ns <= ts_ns]
        return self.close_products(due, ts_ns)

    def close_products(self, product_ids: list[str], ts_ns: int) -> list[str]:
        """Close ``product_ids`` now and cancel their resting orders (one commit).

        Returns the ids that were open.
        """
        closed = [pid for pid in product_ids if pid in self.products and self.engine.books[pid].open]
        for pid in closed:
            self._apply("close", ts_ns, {"product_id": pid})
        self._commit()
        return closed

    def update_site(self, state: SiteTradingState) -> None:
        """Replace the physical state the pre-trade checks use for ``state.site_id``.

        Not journaled: after a restart a site reports its state afresh.
        """
        self.sites[state.site_id] = state

    # --- trading ---------------------------------------------------------------------
    def submit(self, request: OrderRequest, ts_ns: int) -> Ack:
        """Place one order and commit it (one commit per order)."""
        return self.process([Submit(request, ts_ns)])[0]

    def cancel(self, participant: str, order_id: int, ts_ns: int) -> Ack:
        """Cancel one order and commit it."""
        return self.process([Cancel(participant, order_id, ts_ns)])[0]

    def modify(
        self,
        participant: str,
        order_id: int,
        ts_ns: int,
        price_eur_per_mwh: float | None = None,
        quantity_mwh: float | None = None,
    ) -> Ack:
        """Modify one order and commit it."""
        return self.process([Modify(participant, order_id, ts_ns, price_eur_per_mwh, quantity_mwh)])[0]

    def process(self, commands: list[Command]) -> list[Ack]:
        """Run a batch of commands and commit them in one transaction (group commit).

        Returns
        -------
        list of Ack
            One per command, in order, after the commit.

        Raises
        ------
        SimulationError
            If the commit fails; the engine is then rebuilt from the journal and
            none of the batch is acknowledged.
        """
        acks: list[Ack] = []
        for command in commands:
            screened = self._screen(command)
            if screened is not None:
                acks.append(self._reject(screened, _safe_ts(command)))
            elif isinstance(command, Submit):
                acks.append(self._submit(command))
            elif isinstance(command, Cancel):
                acks.append(self._cancel(command))
            else:
                acks.append(self._modify(command))
        self._commit()
        return acks

    # --- queries ---------------------------------------------------------------------
    def events_since(self, seq: int = 0, limit: int = 10_000) -> list[Event]:
        """Events with a sequence number above ``seq`` (oldest first, at most ``limit``)."""
        newer: list[Event] = []
        for event in reversed(self._events):  # the buffer is in sequence order: read from its end
            if event.seq <= seq:
                break
            newer.append(event)
        newer.reverse()
        return newer[:limit]

    def position(self, participant: str, product: str) -> Position:
        """Open and filled quantities of ``participant`` in ``product``. [MWh]"""
        lot = self.engine.config.lot_mwh
        pos = Position()
        for oid in self._keys.get((participant, product), ()):
            o = self.engine.orders[oid]
            if o.side is Side.BUY:
                pos.buy_open_mwh += o.open_lots * lot
                pos.buy_filled_mwh += o.filled_lots * lot
            else:
                pos.sell_open_mwh += o.open_lots * lot
                pos.sell_filled_mwh += o.filled_lots * lot
        return pos

    def state_hash(self) -> str:
        """The engine's state hash (see :meth:`MatchingEngine.state_hash`)."""
        return self.engine.state_hash()

    def close(self) -> None:
        """Close the journal (checkpointing the WAL)."""
        if self.journal is not None:
            self.journal.close()

    # --- internals -------------------------------------------------------------------
    def _emit(self, ts_ns: int, kind: str, **data: Any) -> None:
        self._event_seq += 1
        self._events.append(Event(self._event_seq, ts_ns, kind, data))

    def _screen(self, command: Command) -> Rejection | None:
        """Refuse malformed fields before any check reads them (the batch still commits)."""
        who = getattr(command, "participant", None)
        if isinstance(command, Submit):
            who = command.request.participant
        cid = command.request.client_order_id if isinstance(command, Submit) else None
        shown = _shown(who)
        ts_ns = getattr(command, "ts_ns", None)
        if not isinstance(ts_ns, int) or isinstance(ts_ns, bool) or not 0 <= ts_ns <= MAX_TS_NS:
            return Rejection(
                RejectReason.INVALID_TIMESTAMP,
                f"ts_ns {_shown(ts_ns)} must be an integer in [0, 2**63 - 1] (ns since 1970, UTC)",
                shown,
                None,
            )
        if not isinstance(who, str) or not who or len(who) > MAX_ID_CHARS:
            return Rejection(
                RejectReason.INVALID_FIELD,
                f"participant {shown!r} must be a registered name of 1 to {MAX_ID_CHARS} characters",
                shown,
                None,
            )
        if cid is not None:
            if not isinstance(cid, str) or not cid or len(cid) > MAX_ID_CHARS:
                return Rejection(
                    RejectReason.INVALID_FIELD,
                    f"client_order_id {_shown(cid)!r} must be text of 1 to {MAX_ID_CHARS} "
                    "characters, or none",
                    who,
                    None,
                )
            if (who, cid) in self._client_ids:
                return Rejection(
                    RejectReason.DUPLICATE_CLIENT_ORDER_ID,
                    f"client_order_id {cid!r} was already used by {who}; use a new one per order",
                    who,
                    cid,
                )
        return None

    def _reject(self, rejection: Rejection, ts_ns: int) -> Ack:
        self._pending_rejections.append(
            (ts_ns, _shown(rejection.participant), "+".join(map(str, rejection.reasons)), rejection.message[:1000])
        )
        self._emit(
            ts_ns,
            "order_rejected",
            participant=rejection.participant,
            reason=str(rejection.reason),
            reasons=[str(r) for r in rejection.reasons],
            message=rejection.message,
            order_id=rejection.order_id,
            client_order_id=rejection.client_order_id,
        )
        return Ack(False, None, rejection)

    def _apply(self, kind: str, ts_ns: int, body: dict[str, Any]) -> int:
        """Apply an administrative command to memory and queue it for the journal."""
        self._seq += 1
        self._run_admin(kind, ts_ns, body)
        self._pending.append((self._seq, ts_ns, kind, body))
        return self._seq

    def _run_admin(self, kind: str, ts_ns: int, body: dict[str, Any]) -> None:
        if kind == "register":
            self.participants[body["participant"]] = body["kind"]
        elif kind == "open":
            product = Product(**body)
            self.products[product.product_id] = product
            self.engine.open_product(product.product_id)
            self._emit(ts_ns, "product_opened", product=product.product_id)
        elif kind == "close":
            cancelled = self.engine.close_product(body["product_id"], ts_ns)
            self._emit(
                ts_ns,
                "product_closed",
                product=body["product_id"],
                cancelled=[o.order_id for o in cancelled],
            )

    def _pretrade(self, request: OrderRequest, ts_ns: int) -> Rejection | None:
        who, cid = request.participant, request.client_order_id
        kind = self.participants.get(who)
        if kind is None:
            return Rejection(
                RejectReason.UNKNOWN_PARTICIPANT,
                f"participant {who!r} is not registered at this exchange; register it first",
                who,
                cid,
            )
        if request.venue != Venue.INTERNAL:
            return Rejection(
                RejectReason.VENUE_CLOSED,
                f"venue {request.venue!r} is not this exchange; route it through the "
                f"trading bridge (twin.markets.venues)",
                who,
                cid,
            )
        product = self.products.get(request.product)
        if product is not None and ts_ns >= product.gate_closure_ns:
            return Rejection(
                RejectReason.MARKET_CLOSED,
                f"product {request.product} closed at its gate "
                f"({product.gate_closure_ns // NS_PER_S} s UTC); trade a later product",
                who,
                cid,
            )
        state = self.sites.get(who) if kind == "site" else None
        if kind == "site" and state is None:
            return Rejection(
                RejectReason.SITE_STATE_UNKNOWN,
                f"site {who} has not reported its SoC and schedule; call update_site first",
                who,
                cid,
            )
        stop, derate = temperature_check(self.policy, state)
        if stop is not None:
            return Rejection(stop.reason, stop.message, who, cid)
        market = product.market if product is not None else market_of(request.product)
        key = (who, market)
        bucket = self._buckets.get(key)
        if bucket is None:
            per_min = self.policy.orders_per_minute(who)
            capacity = self.policy.burst or max(1.0, per_min)
            bucket = self._buckets[key] = TokenBucket(per_min / 60.0, capacity)
        if not bucket.take(ts_ns / NS_PER_S, 1.0 / derate):
            return Rejection(
                RejectReason.RATE_LIMITED,
                f"{who} is over the rate limit of {bucket.rate_per_s * 60 * derate:g} "
                f"orders/min in {market}{' (derated by temperature)' if derate < 1 else ''}; "
                f"retry later",
                who,
                cid,
            )
        if product is None:
            return None  # an unknown product the engine will name
        found: list[Rejection] = []
        if state is not None:
            rejection = check_deliverable(
                self.policy,
                state,
                request.product,
                product.dt_h,
                Side(request.side),
                float(request.quantity_mwh),
                self._earlier(who, state, product),
                self.position(who, request.product),
                derate,
            )
            if rejection is not None:
                found.append(rejection)
        if self.limits.checks_anything:
            found += check_limits(self.limits, self._order_context(request, product))
        if not found:
            return None
        return Rejection(
            found[0].reason, "; ".join(r.message for r in found), who, cid,
            also=tuple(r.reason for r in found[1:]),
        )  # fmt: skip

    def _order_context(self, request: OrderRequest, product: Product) -> OrderContext:
        """The participant's worst-case book with ``request`` filled, for :func:`check_limits`."""
        who, side, qty = request.participant, Side(request.side), float(request.quantity_mwh)
        state = self.sites.get(who)
        held = (
            list(state.periods) if state is not None
            else [pid for (p, pid) in self._keys if p == who and pid in self.engine.books and self.engine.books[pid].open]
        )  # fmt: skip
        # other products: every open order fills; the order's product: the worst case of its side
        net = {pid: self.position(who, pid).intended_sell_mwh for pid in held if (who, pid) in self._keys}
        own = _worst_net_sell(self.position(who, request.product), side)
        net[request.product] = own + (qty if side is Side.SELL else -qty)
        site_kw = {}
        for site_id, state in self.sites.items():
            period = state.periods.get(request.product)
            if period is None:
                continue
            q = net[request.product] if site_id == who else self.position(site_id, request.product).intended_sell_mwh
            site_kw[site_id] = limit_power_kw(period.base_power_kw, q, product.dt_h)
        return OrderContext(who, request.product, side, qty, float(request.price_eur_per_mwh), product.dt_h, net, site_kw)

    def _earlier(
        self, who: str, state: SiteTradingState, product: Product
    ) -> list[tuple[str, float, float]]:
        out = []
        for pid in state.periods:
            other = self.products.get(pid)
            if other is None or other.delivery_start_ns >= product.delivery_start_ns:
                continue
            if (who, pid) in self._keys:
                out.append((pid, other.dt_h, self.position(who, pid).intended_sell_mwh))
        return out

    def _submit(self, command: Submit) -> Ack:
        request, ts_ns = command.request, command.ts_ns
        started = time.perf_counter()
        rejection = self._pretrade(request, ts_ns)
        if rejection is not None:
            return self._reject(rejection, ts_ns)
        execution = self.engine.submit(request, ts_ns)
        if not execution.accepted:
            return self._reject(execution.result, ts_ns)  # type: ignore[arg-type]
        order = execution.result
        assert isinstance(order, Order)
        self._keys[(order.participant, order.product)].append(order.order_id)
        if request.client_order_id is not None:
            self._client_ids.add((order.participant, request.client_order_id))
        body = {
            "participant": request.participant,
            "product": request.product,
            "side": str(request.side),
            "quantity_mwh": request.quantity_mwh,
            "price_eur_per_mwh": request.price_eur_per_mwh,
            "time_in_force": str(request.time_in_force),
            "client_order_id": request.client_order_id,
            "order_id": order.order_id,
        }
        return self._accepted("submit", ts_ns, body, execution, started, "order_accepted")

    def _cancel(self, command: Cancel) -> Ack:
        started = time.perf_counter()
        execution = self.engine.cancel(command.participant, command.order_id, command.ts_ns)
        if not execution.accepted:
            return self._reject(execution.result, command.ts_ns)  # type: ignore[arg-type]
        body = {"participant": command.participant, "order_id": command.order_id}
        return self._accepted("cancel", command.ts_ns, body, execution, started, "order_cancelled")

    def _modify(self, command: Modify) -> Ack:
        started = time.perf_counter()
        order = self.engine.orders.get(command.order_id)
        if (
            order is not None
            and order.participant == command.participant
            and self.participants.get(command.participant) == "site"
            and command.quantity_mwh is not None
        ):
            # a larger quantity must pass the physical checks like a new order would
            extra = command.quantity_mwh - order.open_lots * self.engine.config.lot_mwh
            if extra > 0:
                probe = OrderRequest(
                    order.participant, order.product, order.side, extra, 0.0, TimeInForce.GTC
                )
                rejection = self._pretrade(probe, command.ts_ns)
                if rejection is not None:
                    return self._reject(rejection, command.ts_ns)
        execution = self.engine.modify(
            command.participant,
            command.order_id,
            command.ts_ns,
            command.price_eur_per_mwh,
            command.quantity_mwh,
        )
        if not execution.accepted:
            return self._reject(execution.result, command.ts_ns)  # type: ignore[arg-type]
        body = {
            "participant": command.participant,
            "order_id": command.order_id,
            "price_eur_per_mwh": command.price_eur_per_mwh,
            "quantity_mwh": command.quantity_mwh,
        }
        return self._accepted("modify", command.ts_ns, body, execution, started, "order_modified")

    def _accepted(
        self,
        kind: str,
        ts_ns: int,
        body: dict[str, Any],
        execution: Execution,
        started: float,
        event: str,
    ) -> Ack:
        self._seq += 1
        seq = self._seq
        order = execution.result
        assert isinstance(order, Order)
        cfg = self.engine.config
        self._pending.append((seq, ts_ns, kind, body))
        self._pending_trades.extend((seq, t) for t in execution.trades)
        view = order.snapshot(cfg.lot_mwh, cfg.ticks_per_eur)
        self._emit(
            ts_ns,
            event,
            order_id=order.order_id,
            participant=order.participant,
            product=order.product,
            side=str(order.side),
            status=str(order.status),
            price_eur_per_mwh=view.price_eur_per_mwh,
            open_mwh=view.open_mwh,
            latency_s=time.perf_counter() - started,
        )
        for t in execution.trades:
            self._emit(
                ts_ns,
                "trade",
                trade_id=t.trade_id,
                product=t.product,
                buyer=t.buyer,
                seller=t.seller,
                quantity_mwh=t.quantity_lots * cfg.lot_mwh,
                price_eur_per_mwh=t.price_eur_per_mwh,
            )
        book = self.engine.books[order.product]
        bid, ask = book.best_bid_ticks(), book.best_ask_ticks()
        self._emit(
            ts_ns,
            "book",
            product=order.product,
            best_bid_eur_per_mwh=None if bid is None else cfg.price_eur_per_mwh(bid),
            best_ask_eur_per_mwh=None if ask is None else cfg.price_eur_per_mwh(ask),
        )
        return Ack(True, view, None, tuple(execution.trades), seq)

    def _commit(self) -> None:
        if self.journal is None:
            self._pending.clear()
            self._pending_trades.clear()
            self._pending_rejections.clear()
            return
        if not (self._pending or self._pending_rejections):
            return
        try:
            self.journal.write(self._pending, self._pending_trades, self._pending_rejections)
        except Exception as err:
            self._reset_from_journal()
            raise SimulationError(
                f"exchange journal {self.journal.path}: commit failed ({err}); "
                f"the batch was not acknowledged and the book was rebuilt from the journal"
            ) from err
        finally:
            self._pending.clear()
            self._pending_trades.clear()
            self._pending_rejections.clear()

    def _reset_from_journal(self) -> None:
        self.engine = MatchingEngine(self.engine.config)
        self.products.clear()
        self.participants.clear()
        self._keys.clear()
        self._client_ids.clear()
        self._buckets.clear()
        self._seq = 0
        self._replay()

    def _replay(self) -> None:
        """Rebuild the engine from the journal and check it against the journaled trades."""
        assert self.journal is not None
        engine = self.engine
        replayed: list[tuple[Any, ...]] = []
        for seq, ts_ns, kind, body in self.journal.commands():
            self._seq = seq
            if kind in ("register", "open", "close"):
                self._run_admin(kind, ts_ns, body)
                continue
            if kind == "submit":
                request = OrderRequest(
                    body["participant"],
                    body["product"],
                    Side(body["side"]),
                    body["quantity_mwh"],
                    body["price_eur_per_mwh"],
                    TimeInForce(body["time_in_force"]),
                    Venue.INTERNAL,
                    body["client_order_id"],
                )
                execution = engine.submit(request, ts_ns)
                if not execution.accepted or execution.result.order_id != body["order_id"]:
                    raise JournalError(
                        f"journal {self.journal.path}: command {seq} replays to "
                        f"{execution.result!r}, not order {body['order_id']}"
                    )
                order = execution.result
                assert isinstance(order, Order) and order.order_id is not None
                self._keys[(order.participant, order.product)].append(order.order_id)
                if body["client_order_id"] is not None:
                    self._client_ids.add((order.participant, body["client_order_id"]))
            elif kind == "cancel":
                execution = engine.cancel(body["participant"], body["order_id"], ts_ns)
            elif kind == "modify":
                execution = engine.modify(
                    body["participant"],
                    body["order_id"],
                    ts_ns,
                    body["price_eur_per_mwh"],
                    body["quantity_mwh"],
                )
            else:
                raise JournalError(f"journal {self.journal.path}: unknown command kind {kind!r}")
            if not execution.accepted:
                raise JournalError(
                    f"journal {self.journal.path}: command {seq} ({kind}) is refused on replay: "
                    f"{execution.result}"
                )
            replayed.extend(trade_row(seq, t) for t in execution.trades)
        journaled = self.journal.trades()
        if replayed != journaled:
            raise JournalError(
                f"journal {self.journal.path}: replay gives {len(replayed)} trades, the journal "
                f"holds {len(journaled)}, or they differ; the journal is not this engine's"
            )
        self._events.clear()
