"""Credit, VaR, position and grid limits of the pre-trade check (with deliverability in :mod:`pretrade`).

The exchange asks every limit about every order and returns *all* reasons of a
rejection at once. Each limit judges the participant's book as it would be if
the order filled completely and every open order of the same side filled too
(the worst case the order adds):

* ``POSITION_LIMIT``: the net position in the order's product exceeds
  ``position_mwh``;
* ``VAR_LIMIT``: the parametric VaR of the open positions over all products,
  ``z(c) * sigma * sum |q_p|`` (every product's price moving together, the
  conservative comonotone case), exceeds ``var_eur``; ``sigma`` is the standard
  deviation of the one-day price change the risk service last pushed;
* ``CREDIT_LIMIT``: the exposure to the participant (its current exposure as
  the credit service last measured it, plus the value of a BUY it would owe,
  plus the PFE add-on ``move * sum |q_p|``) exceeds ``credit_eur``;
* ``GRID_LIMIT``: the site's exchange with the grid in the product's period
  (its base schedule plus its position) breaks its connection limit, or the
  sum over the sites behind a shared limit breaks that.

Without a pushed ``sigma`` or exposure the VaR and credit limits judge what is
known (the add-ons count as zero); a limit of None is not checked.

References
----------
.. [1] P. Jorion, "Value at Risk", 3rd ed., McGraw-Hill, 2007, ch. 7 (parametric VaR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

from twin.config.etrm import EtrmConfig
from twin.config.site import SiteConfig
from twin.markets.exchange.orders import Rejection, RejectReason, Side
from twin.units import KWH_PER_MWH


@dataclass(frozen=True)
class TradingLimits:
    """One participant's limits; None: not checked."""

    position_mwh: float | None = None
    var_eur: float | None = None
    var_confidence: float = 0.99
    credit_eur: float | None = None
    import_max_kw: float | None = None
    export_max_kw: float | None = None


@dataclass(frozen=True)
class GridShare:
    """A limit on the summed grid exchange of several sites. [kW]"""

    name: str
    site_ids: tuple[str, ...]
    import_max_kw: float | None = None
    export_max_kw: float | None = None


@dataclass
class LimitBook:
    """The limits of every participant and what the risk and credit services last measured.

    Attributes
    ----------
    limits : dict of str to TradingLimits
    default : TradingLimits
        For participants without their own entry.
    shared : list of GridShare
    sigma_eur_per_mwh : float
        Standard deviation of the one-day price change (risk service). [EUR/MWh]
    move_eur_per_mwh : float
        PFE price move (credit service). [EUR/MWh]
    exposure_eur : dict of str to float
        Current credit exposure per participant (credit service). [EUR]
    """

    limits: dict[str, TradingLimits] = field(default_factory=dict)
    default: TradingLimits = field(default_factory=TradingLimits)
    shared: list[GridShare] = field(default_factory=list)
    sigma_eur_per_mwh: float = 0.0
    move_eur_per_mwh: float = 0.0
    exposure_eur: dict[str, float] = field(default_factory=dict)

    def of(self, participant: str) -> TradingLimits:
        """The limits of ``participant``."""
        return self.limits.get(participant, self.default)

    @property
    def checks_anything(self) -> bool:
        """Whether any limit is set (the exchange skips the work otherwise)."""
        every = [*self.limits.values(), self.default]
        return bool(self.shared) or any(
            v is not None
            for lim in every
            for v in (lim.position_mwh, lim.var_eur, lim.credit_eur, lim.import_max_kw, lim.export_max_kw)
        )


@dataclass(frozen=True)
class OrderContext:
    """What the exchange knows of an order and its participant's book when checking limits.

    Attributes
    ----------
    participant, product : str
    side : Side
    quantity_mwh, price_eur_per_mwh : float
    dt_h : float
        Length of the product's delivery period. [h]
    net_sell_after_mwh : dict of str to float
        The participant's worst-case net sell per open product with the order filled. [MWh]
    site_power_kw : dict of str to float
        Per site: base schedule plus worst-case position in the order's product,
        the order included for its own participant (discharge positive). [kW]
    """

    participant: str
    product: str
    side: Side
    quantity_mwh: float
    price_eur_per_mwh: float
    dt_h: float
    net_sell_after_mwh: dict[str, float]
    site_power_kw: dict[str, float]


def check_limits(book: LimitBook, order: OrderContext) -> list[Rejection]:
    """Every limit the order would break (see the module docstring); empty when none."""
    who = order.participant
    lim = book.of(who)
    out: list[Rejection] = []
    q_here = order.net_sell_after_mwh.get(order.product, 0.0)
    gross = sum(abs(q) for q in order.net_sell_after_mwh.values())
    if lim.position_mwh is not None and abs(q_here) > lim.position_mwh + 1e-9:
        out.append(Rejection(
            RejectReason.POSITION_LIMIT,
            f"{order.side} {order.quantity_mwh} MWh in {order.product} takes {who}'s position to "
            f"{q_here:+.3f} MWh net sell, over its position limit {lim.position_mwh} MWh; trade less",
            who,
        ))  # fmt: skip
    if lim.var_eur is not None:
        z = NormalDist().inv_cdf(lim.var_confidence)
        var = z * book.sigma_eur_per_mwh * gross
        if var > lim.var_eur + 1e-9:
            out.append(Rejection(
                RejectReason.VAR_LIMIT,
                f"{order.side} {order.quantity_mwh} MWh in {order.product} takes {who}'s VaR "
                f"{lim.var_confidence:.1%} to {var:,.2f} EUR ({gross:.3f} MWh open, sigma "
                f"{book.sigma_eur_per_mwh:.2f} EUR/MWh), over its limit {lim.var_eur:,.2f} EUR; trade less or close positions",
                who,
            ))  # fmt: skip
    if lim.credit_eur is not None:
        owed = order.quantity_mwh * order.price_eur_per_mwh if order.side is Side.BUY else 0.0
        exposure = book.exposure_eur.get(who, 0.0) + max(owed, 0.0) + book.move_eur_per_mwh * gross
        if exposure > lim.credit_eur + 1e-9:
            out.append(Rejection(
                RejectReason.CREDIT_LIMIT,
                f"{order.side} {order.quantity_mwh} MWh in {order.product} takes the exposure to "
                f"{who} to {exposure:,.2f} EUR (current {book.exposure_eur.get(who, 0.0):,.2f}, this "
                f"order {owed:,.2f}, add-on {book.move_eur_per_mwh * gross:,.2f}), over its credit limit "
                f"{lim.credit_eur:,.2f} EUR; settle first or trade less",
                who,
            ))  # fmt: skip
    out += _grid(book, order, lim)
    return out


def _over(grid_kw: float, import_max: float | None, export_max: float | None) -> str | None:
    if import_max is not None and grid_kw > import_max + 1e-6:
        return f"import {grid_kw:,.1f} kW over {import_max:,.1f} kW"
    if export_max is not None and -grid_kw > export_max + 1e-6:
        return f"export {-grid_kw:,.1f} kW over {export_max:,.1f} kW"
    return None


def _grid(book: LimitBook, order: OrderContext, lim: TradingLimits) -> list[Rejection]:
    who = order.participant
    if who not in order.site_power_kw:
        return []
    broken = []
    own = _over(-order.site_power_kw[who], lim.import_max_kw, lim.export_max_kw)
    if own is not None:
        broken.append(f"site {who} connection: {own}")
    for share in book.shared:
        if who in share.site_ids:
            total = -sum(order.site_power_kw.get(s, 0.0) for s in share.site_ids)
            over = _over(total, share.import_max_kw, share.export_max_kw)
            if over is not None:
                broken.append(f"shared limit {share.name}: {over}")
    if not broken:
        return []
    return [Rejection(
        RejectReason.GRID_LIMIT,
        f"{order.side} {order.quantity_mwh} MWh in {order.product} breaks the grid limit(s) "
        f"({'; '.join(broken)}); trade at most what the connection carries",
        who,
    )]  # fmt: skip


def power_kw(base_power_kw: float, net_sell_mwh: float, dt_h: float) -> float:
    """A site's power in a period: base schedule plus its net sell spread over the period. [kW]"""
    return base_power_kw + net_sell_mwh * KWH_PER_MWH / dt_h


def limit_book(etrm: EtrmConfig, sites: list[SiteConfig], participants: list[str]) -> LimitBook:
    """The pre-trade limits of a scenario: each participant's from ``etrm.limits``, each site's grid connection.

    Parameters
    ----------
    etrm : EtrmConfig
    sites : list of SiteConfig
    participants : list of str
        Other participants (traders) that may have limits of their own.
    """
    book = LimitBook(shared=[
        GridShare(s.name, tuple(s.site_ids), s.import_max_kw, s.export_max_kw) for s in etrm.grid.shared_limits
    ])  # fmt: skip
    for site in sites:
        lim = etrm.limits_of(site.site_id)
        book.limits[site.site_id] = TradingLimits(
            lim.position_mwh, lim.var_eur, lim.var_confidence, lim.credit_eur,
            site.grid.import_max_kw, site.feed_in_limit_kw,
        )  # fmt: skip
    for who in participants:
        if who in etrm.limits:
            lim = etrm.limits[who]
            book.limits[who] = TradingLimits(lim.position_mwh, lim.var_eur, lim.var_confidence, lim.credit_eur)
    return book
