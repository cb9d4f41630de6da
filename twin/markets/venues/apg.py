"""Schedule nomination of a balance group to APG (Austrian TSO), as a file.

Orders routed to ``APG`` are not trades: they are the balance group's
schedule positions (a SELL injects, a BUY withdraws) that the balance
responsible party nominates to the TSO for day D. APG's deadline for
day-ahead schedules is D-1 14:30 Europe/Vienna; later positions are refused.

File format (``bess-twin APG schedule v1``, CSV, UTF-8, one file per balance
group and day; APG's own interface is ESS/KISS XML, which a real client would
write from the same rows)::

    # bess-twin APG schedule v1
    # balance_group: <EIC or name>
    # delivery_date: 2023-06-14 (Europe/Vienna)
    # sign: power_mw > 0 injection (sell), < 0 withdrawal (buy)
    balance_group,site_id,delivery_start_utc,delivery_end_utc,power_mw,energy_mwh
    AT-BG-1,graz,2023-06-13T22:00:00Z,2023-06-13T22:15:00Z,0.100000,0.025000

One row per site and quarter hour (APG's settlement period is 15 min); an
hourly position is spread evenly over its four quarter hours.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pandas as pd

from twin.markets.exchange.orders import OrderRequest, Rejection, RejectReason, Side, Venue
from twin.markets.products import parse_product_id
from twin.markets.venues.base import VenueAck

HEADER = "balance_group,site_id,delivery_start_utc,delivery_end_utc,power_mw,energy_mwh"
_QUARTER = pd.Timedelta(minutes=15)


class ApgScheduleVenue:
    """Collects schedule positions and exports them in the documented CSV format.

    Parameters
    ----------
    balance_group : str
    deadline_local : datetime.time
        Nomination deadline on D-1, Europe/Vienna (APG: 14:30).
    """

    venue = Venue.APG
    timezone = "Europe/Vienna"

    def __init__(self, balance_group: str, deadline_local: dt.time = dt.time(14, 30)) -> None:
        self.balance_group = balance_group
        self.deadline_local = deadline_local
        self._energy_mwh: dict[tuple[str, pd.Timestamp], float] = defaultdict(float)

    def submit(self, request: OrderRequest, ts_ns: int) -> VenueAck:
        """Add a position: ``quantity_mwh`` over the product's delivery period."""
        try:
            _, start, duration = parse_product_id(request.product)
        except ValueError as err:
            return self._reject(request, RejectReason.UNKNOWN_PRODUCT, str(err))
        if duration % 15:
            return self._reject(request, RejectReason.UNKNOWN_PRODUCT,
                                f"product {request.product!r}: APG schedules are in quarter hours")
        if not request.quantity_mwh > 0:
            return self._reject(request, RejectReason.INVALID_QUANTITY,
                                f"quantity_mwh {request.quantity_mwh} must be > 0")
        local_day = start.tz_convert(self.timezone).date()
        deadline = pd.Timestamp(dt.datetime.combine(local_day - dt.timedelta(days=1),
                                                    self.deadline_local)).tz_localize(self.timezone)
        if ts_ns >= deadline.value:
            return self._reject(request, RejectReason.VENUE_CLOSED,
                                f"the APG nomination deadline for {local_day} was {deadline}")
        sign = 1.0 if request.side is Side.SELL else -1.0
        quarters = duration // 15
        for k in range(quarters):
            key = (request.participant, start + k * _QUARTER)
            self._energy_mwh[key] += sign * request.quantity_mwh / quarters
        return VenueAck(True, self.venue, f"{self.balance_group}:{request.participant}:{start}")

    def export(self, delivery_date: dt.date, folder: str | Path) -> Path:
        """Write the schedule of local ``delivery_date`` and return the file's path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"apg_schedule_{self.balance_group}_{delivery_date.isoformat()}.csv"
        lines = [
            "# bess-twin APG schedule v1",
            f"# balance_group: {self.balance_group}",
            f"# delivery_date: {delivery_date.isoformat()} ({self.timezone})",
            "# sign: power_mw > 0 injection (sell), < 0 withdrawal (buy)",
            HEADER,
        ]
        for (site, start), energy in sorted(self._energy_mwh.items()):
            if start.tz_convert(self.timezone).date() != delivery_date:
                continue
            end = start + _QUARTER
            lines.append(
                f"{self.balance_group},{site},{start.strftime('%Y-%m-%dT%H:%M:%SZ')},"
                f"{end.strftime('%Y-%m-%dT%H:%M:%SZ')},{energy / 0.25:.6f},{energy:.6f}"
            )
        path.write_text("\n".join(lines) + "\n")
        return path

    def _reject(self, request: OrderRequest, reason: RejectReason, message: str) -> VenueAck:
        return VenueAck(False, self.venue, rejection=Rejection(
            reason, message, request.participant, request.client_order_id))
