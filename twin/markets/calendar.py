"""The publication calendar: which prices are public at instant t.

One answer for the backtest's forecast service, the replay feed and the live
market. Times of day are *local* market times (the day-ahead gate at 12:00, its
result about 45 minutes later, intraday opening at 15:00) and are converted to
UTC per calendar day, so on the 23-hour spring day and the 25-hour autumn day
they fall at the same wall-clock time as on any other day.

Rules (SDAC / EPEX, see References):

* the day-ahead auction for delivery day D closes on D-1 at the gate
  (``gate_closure_local``, 12:00 CET/CEST);
* its results (every MTU of D) are public from D-1 at the gate plus
  ``publication_delay`` (about 12:45; harmonised publication 12:57 at the latest);
* continuous intraday trading for D's products opens on D-1 at
  ``intraday_opening_local`` (15:00), the time of the 15-min intraday auction;
* the intraday auction's prices of D are public ``intraday_auction_delay``
  after it (about 15:10); a continuous index (ID1, ID3, the average) of a
  product is public when its delivery has ended.

Adding a duration to a tz-aware midnight is *not* the same as a local time of
day: on the spring DST day ``midnight + 12 h`` is 13:00 local. Every instant
here is built as a naive local date-time and localised, never by adding hours.

References
----------
.. [1] EPEX SPOT, "Day-Ahead Auction: trading timeline", SDAC operational
   procedures (gate 12:00 CET, results from 12:42 CET).
.. [2] EPEX SPOT, "Intraday continuous: German hourly products open at 15:00 on D-1".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from twin.config.market import MarketConfig


def local_instant_utc(day: dt.date, local_time: dt.time, timezone: str) -> pd.Timestamp:
    """The instant ``local_time`` on ``day`` in ``timezone``, in UTC.

    Parameters
    ----------
    day : datetime.date
        Local calendar date.
    local_time : datetime.time
        Wall-clock time on that date (outside the spring DST gap).
    timezone : str
        IANA time zone, e.g. ``Europe/Berlin``.

    Returns
    -------
    pd.Timestamp
        tz-aware UTC timestamp.
    """
    naive = pd.Timestamp(dt.datetime.combine(day, local_time))
    return naive.tz_localize(timezone).tz_convert("UTC")


def local_midnight_utc(day: dt.date, timezone: str) -> pd.Timestamp:
    """Start of the local calendar day ``day`` in UTC (local midnight). [UTC]"""
    return local_instant_utc(day, dt.time(0, 0), timezone)


@dataclass(frozen=True)
class PublicationCalendar:
    """When the prices of a bidding zone become public.

    Parameters
    ----------
    timezone : str
        Local market time zone (IANA name).
    gate_closure_local : datetime.time
        Day-ahead gate closure on D-1, local time (SDAC: 12:00).
    publication_delay : datetime.timedelta
        From the gate to the published day-ahead result (EPEX: about 45 min).
    intraday_opening_local : datetime.time
        Opening of continuous intraday trading for D on D-1, local time (15:00).
    intraday_auction_delay : datetime.timedelta
        From the intraday auction to its published prices (about 10 min).
    """

    timezone: str
    gate_closure_local: dt.time = dt.time(12, 0)
    publication_delay: dt.timedelta = dt.timedelta(minutes=45)
    intraday_opening_local: dt.time = dt.time(15, 0)
    intraday_auction_delay: dt.timedelta = dt.timedelta(minutes=10)

    @classmethod
    def of_market(cls, market: MarketConfig) -> PublicationCalendar:
        """The calendar of a scenario's market (time zone, gate, publication delay)."""
        return cls(
            timezone=market.timezone,
            gate_closure_local=market.gate_closure_local,
            publication_delay=dt.timedelta(minutes=market.publication_delay_min),
        )

    def gate_closure_utc(self, delivery_date: dt.date) -> pd.Timestamp:
        """Day-ahead gate closure for ``delivery_date``: D-1 at the local gate time. [UTC]"""
        return local_instant_utc(
            delivery_date - dt.timedelta(days=1), self.gate_closure_local, self.timezone
        )

    def day_ahead_result_utc(self, delivery_date: dt.date) -> pd.Timestamp:
        """When the day-ahead prices of ``delivery_date`` become public: gate + delay. [UTC]"""
        return self.gate_closure_utc(delivery_date) + pd.Timedelta(self.publication_delay)

    def intraday_opening_utc(self, delivery_date: dt.date) -> pd.Timestamp:
        """Opening of continuous intraday trading for ``delivery_date`` (D-1, local). [UTC]"""
        return local_instant_utc(
            delivery_date - dt.timedelta(days=1), self.intraday_opening_local, self.timezone
        )

    def day_ahead_published_until(self, at_utc: pd.Timestamp) -> pd.Timestamp:
        """End (exclusive) of the delivery whose day-ahead prices are public at ``at_utc``.

        Parameters
        ----------
        at_utc : pd.Timestamp
            The instant asked about (tz-aware).

        Returns
        -------
        pd.Timestamp
            Local midnight ending the last published delivery day, in UTC: the
            end of tomorrow once tomorrow's result is out, else the end of today.
        """
        today = at_utc.tz_convert(self.timezone).date()
        tomorrow = today + dt.timedelta(days=1)
        last = tomorrow if at_utc >= self.day_ahead_result_utc(tomorrow) else today
        return local_midnight_utc(last + dt.timedelta(days=1), self.timezone)

    def day_ahead_publication_utc(self, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """When the day-ahead price of each MTU in ``index`` became public.

        Parameters
        ----------
        index : pd.DatetimeIndex
            MTU starts, tz-aware, length T.

        Returns
        -------
        pd.DatetimeIndex
            Length T, UTC: the result time of each MTU's local delivery day.
        """
        local_dates = index.tz_convert(self.timezone).normalize().tz_localize(None)
        published = {
            day: self.day_ahead_result_utc(day.date()) for day in pd.unique(local_dates)
        }
        return pd.DatetimeIndex([published[day] for day in local_dates], tz="UTC")

    def published_day_ahead(self, prices: pd.Series, at_utc: pd.Timestamp) -> pd.Series:
        """The part of ``prices`` that is public at ``at_utc``.

        Parameters
        ----------
        prices : pd.Series
            Day-ahead prices on a tz-aware index of MTU starts. [EUR/MWh]
        at_utc : pd.Timestamp
            The instant of the decision (tz-aware).

        Returns
        -------
        pd.Series
            The prices whose delivery ends no later than
            :meth:`day_ahead_published_until` of ``at_utc``. [EUR/MWh]
        """
        return prices.loc[prices.index < self.day_ahead_published_until(at_utc)]

    def intraday_publication_utc(
        self, index: pd.DatetimeIndex, step: pd.Timedelta, auction: bool
    ) -> pd.DatetimeIndex:
        """When the intraday price of each product in ``index`` became public.

        Parameters
        ----------
        index : pd.DatetimeIndex
            Product delivery starts, tz-aware, length T.
        step : pd.Timedelta
            Product length.
        auction : bool
            True for intraday auction prices (public after the auction on D-1),
            False for continuous indices (public when delivery has ended).

        Returns
        -------
        pd.DatetimeIndex
            Length T, UTC.
        """
        if not auction:
            return pd.DatetimeIndex(index.tz_convert("UTC") + step)
        local_dates = index.tz_convert(self.timezone).normalize().tz_localize(None)
        published = {
            day: self.intraday_opening_utc(day.date()) + pd.Timedelta(self.intraday_auction_delay)
            for day in pd.unique(local_dates)
        }
        return pd.DatetimeIndex([published[day] for day in local_dates], tz="UTC")
