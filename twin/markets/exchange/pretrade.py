"""Pre-trade checks: rate limit, temperature and physical deliverability.

Every order of a battery site must be deliverable by the battery in its delivery
period, whatever else the site has committed:

* a **BUY charges** the battery. It is rejected when the charge power of its
  delivery period would exceed the charge limit (``CHARGE_POWER``), or when the
  SoC at the end of the period would exceed ``soc_max`` (``SOC_HEADROOM``);
* a **SELL discharges** it. It is rejected when the discharge power would
  exceed the discharge limit (``DISCHARGE_POWER``), or when the SoC at the end
  of the period would fall below ``soc_min`` (``SOC_FLOOR``).

The seed's thresholds are the defaults (``soc_min`` 15 %, ``soc_max`` 90 %); the
site's own SoC window applies where it is tighter. The seed's pseudo-code
checks the two sides the other way round (a BUY against the SoC floor, a SELL
against the headroom); that would let a full battery buy more energy. bess-twin
implements the physically correct rule above.

The SoC at the start of the period is the site's projection of its base
schedule (the day-ahead award), moved by the site's intended intraday position
in earlier periods (fills and open orders, as if the open orders fill). In the
period itself the worst case of the order's own side counts: all open orders of
that side fill. Later periods are the EMS's responsibility; the plant and the
imbalance settlement are the backstop.

Temperature derating (seed rule): from ``derate_temperature_c`` (40 °C) the
rate limit and the tradable power are halved; from ``stop_temperature_c``
(45 °C) the site may not trade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.config.intraday import TradingPolicy
from twin.markets.exchange.orders import Rejection, RejectReason, Side
from twin.units import KWH_PER_MWH

_SOC_TOL = 1e-9


class TokenBucket:
    """Token-bucket rate limiter on the exchange's clock.

    Parameters
    ----------
    rate_per_s : float
        Refill rate. [tokens/s]
    capacity : float
        Bucket size (the largest burst). [tokens]

    Notes
    -----
    tokens(t) = min(capacity, tokens(t0) + rate * (t - t0)); an order costs one
    token (two while the site is derated, which halves its rate). The bucket
    starts full.
    """

    __slots__ = ("capacity", "rate_per_s", "tokens", "updated_s")

    def __init__(self, rate_per_s: float, capacity: float) -> None:
        self.rate_per_s = rate_per_s
        self.capacity = capacity
        self.tokens = capacity
        self.updated_s: float | None = None

    def take(self, now_s: float, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens at ``now_s`` if the bucket holds them. [s]"""
        if self.updated_s is not None and now_s > self.updated_s:
            self.tokens = min(self.capacity, self.tokens + (now_s - self.updated_s) * self.rate_per_s)
        if self.updated_s is None or now_s > self.updated_s:
            self.updated_s = now_s
        if self.tokens + 1e-12 >= cost:
            self.tokens -= cost
            return True
        return False


@dataclass(frozen=True)
class PeriodState:
    """A site's base schedule in one delivery period.

    Attributes
    ----------
    soc_start : float
        Projected SoC at the start of the period from the base schedule. [fraction]
    base_power_kw : float
        Base schedule (e.g. the day-ahead award); positive discharges. [kW]
    """

    soc_start: float
    base_power_kw: float


@dataclass(frozen=True)
class SiteTradingState:
    """What the exchange needs to know of a site to check its orders.

    Attributes
    ----------
    site_id : str
    energy_kwh : float
        Usable capacity (nominal times state of health). [kWh]
    soc_min, soc_max : float
        The site's own SoC window. [fraction]
    p_charge_max_kw, p_discharge_max_kw : float
        Power limits at the PCC. [kW]
    eta_charge, eta_discharge : float
        [per unit]
    temperature_c : float
        Latest measured cell temperature. [°C]
    periods : dict of str to PeriodState
        Base schedule per product id.
    """

    site_id: str
    energy_kwh: float
    soc_min: float
    soc_max: float
    p_charge_max_kw: float
    p_discharge_max_kw: float
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    temperature_c: float = 25.0
    periods: dict[str, PeriodState] = field(default_factory=dict)


@dataclass
class Position:
    """A participant's quantities in one product. [MWh]"""

    buy_open_mwh: float = 0.0
    buy_filled_mwh: float = 0.0
    sell_open_mwh: float = 0.0
    sell_filled_mwh: float = 0.0

    @property
    def intended_sell_mwh(self) -> float:
        """Net sell if every open order fills. [MWh]"""
        return (
            self.sell_open_mwh + self.sell_filled_mwh - self.buy_open_mwh - self.buy_filled_mwh
        )


def stored_energy_change_kwh(power_kw: float, dt_h: float, eta_c: float, eta_d: float) -> float:
    """Change of stored energy over one period at constant PCC power.

    Parameters
    ----------
    power_kw : float
        Positive discharges, negative charges. [kW]
    dt_h : float
        [h]
    eta_c, eta_d : float
        Charge and discharge efficiency. [per unit]

    Returns
    -------
    float
        ``-power_kw * dt_h / eta_d`` when discharging, ``-power_kw * dt_h * eta_c``
        when charging. [kWh]
    """
    if power_kw >= 0:
        return -power_kw * dt_h / eta_d
    return -power_kw * dt_h * eta_c


def temperature_check(
    policy: TradingPolicy, state: SiteTradingState | None
) -> tuple[Rejection | None, float]:
    """Temperature rule: a rejection at the stop temperature, else the derating factor."""
    if state is None:
        return None, 1.0
    if state.temperature_c >= policy.stop_temperature_c:
        return (
            Rejection(
                RejectReason.TEMPERATURE_STOP,
                f"site {state.site_id} is at {state.temperature_c:.1f} °C, at or above the "
                f"stop temperature {policy.stop_temperature_c} °C; trading resumes once it cools",
                state.site_id,
            ),
            0.0,
        )
    if state.temperature_c >= policy.derate_temperature_c:
        return None, policy.derate_factor
    return None, 1.0


def check_deliverable(
    policy: TradingPolicy,
    state: SiteTradingState,
    product: str,
    dt_h: float,
    side: Side,
    quantity_mwh: float,
    earlier_sell_mwh: list[tuple[str, float, float]],
    position: Position,
    derate: float = 1.0,
) -> Rejection | None:
    """Check that the battery can deliver an order in its delivery period.

    Parameters
    ----------
    policy : TradingPolicy
    state : SiteTradingState
    product : str
    dt_h : float
        Length of the delivery period. [h]
    side : Side
    quantity_mwh : float
        [MWh]
    earlier_sell_mwh : list of (product, dt_h, intended net sell)
        The site's intended positions in earlier products of the same day. [h, MWh]
    position : Position
        The site's quantities in ``product`` before this order. [MWh]
    derate : float
        Temperature factor on the power limits. [per unit]

    Returns
    -------
    Rejection or None
        ``CHARGE_POWER``/``SOC_HEADROOM`` for a BUY, ``DISCHARGE_POWER``/``SOC_FLOOR``
        for a SELL, ``SITE_STATE_UNKNOWN`` when the site has no schedule for the
        product; None when deliverable.
    """
    period = state.periods.get(product)
    who = state.site_id
    if period is None:
        return Rejection(
            RejectReason.SITE_STATE_UNKNOWN,
            f"site {who} has reported no schedule for {product}; "
            f"update its trading state before trading this product",
            who,
        )
    eta_c, eta_d, e_kwh = state.eta_charge, state.eta_discharge, state.energy_kwh
    soc = period.soc_start
    for other, other_dt_h, sell_mwh in earlier_sell_mwh:
        base = state.periods[other].base_power_kw if other in state.periods else 0.0
        delta_kw = sell_mwh * KWH_PER_MWH / other_dt_h
        soc += (
            stored_energy_change_kwh(base + delta_kw, other_dt_h, eta_c, eta_d)
            - stored_energy_change_kwh(base, other_dt_h, eta_c, eta_d)
        ) / e_kwh
    to_kw = KWH_PER_MWH / dt_h
    if side is Side.BUY:
        # worst case for charging: every buy of the period fills, no open sell does
        net_sell = position.sell_filled_mwh - position.buy_filled_mwh - position.buy_open_mwh
        power_kw = period.base_power_kw + (net_sell - quantity_mwh) * to_kw
        limit_kw = state.p_charge_max_kw * derate
        if -power_kw > limit_kw + 1e-9:
            return Rejection(
                RejectReason.CHARGE_POWER,
                f"BUY {quantity_mwh} MWh in {product} needs {-power_kw:.1f} kW of charging, "
                f"over the {'derated ' if derate < 1 else ''}limit {limit_kw:.1f} kW; "
                f"buy at most {max(0.0, (limit_kw + power_kw) / to_kw + quantity_mwh):.3f} MWh",
                who,
            )
        soc_max = min(policy.soc_max, state.soc_max)
        soc_end = soc + stored_energy_change_kwh(power_kw, dt_h, eta_c, eta_d) / e_kwh
        if soc_end > soc_max + _SOC_TOL:
            return Rejection(
                RejectReason.SOC_HEADROOM,
                f"BUY {quantity_mwh} MWh in {product} would charge the battery to SoC "
                f"{soc_end:.3f}, above soc_max {soc_max:.2f}; buy less or sell earlier",
                who,
            )
        return None
    net_sell = position.sell_filled_mwh + position.sell_open_mwh - position.buy_filled_mwh
    power_kw = period.base_power_kw + (net_sell + quantity_mwh) * to_kw
    limit_kw = state.p_discharge_max_kw * derate
    if power_kw > limit_kw + 1e-9:
        return Rejection(
            RejectReason.DISCHARGE_POWER,
            f"SELL {quantity_mwh} MWh in {product} needs {power_kw:.1f} kW of discharging, "
            f"over the {'derated ' if derate < 1 else ''}limit {limit_kw:.1f} kW; "
            f"sell at most {max(0.0, (limit_kw - power_kw) / to_kw + quantity_mwh):.3f} MWh",
            who,
        )
    soc_min = max(policy.soc_min, state.soc_min)
    soc_end = soc + stored_energy_change_kwh(power_kw, dt_h, eta_c, eta_d) / e_kwh
    if soc_end < soc_min - _SOC_TOL:
        return Rejection(
            RejectReason.SOC_FLOOR,
            f"SELL {quantity_mwh} MWh in {product} would discharge the battery to SoC "
            f"{soc_end:.3f}, below soc_min {soc_min:.2f}; sell less or buy earlier",
            who,
        )
    return None
