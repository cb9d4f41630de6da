"""Any CSV row a price file can hold is read or refused with a DataError, never a traceback."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.config import MarketConfig
from twin.errors import DataError
from twin.io.prices import load_prices

cells = st.one_of(
    st.sampled_from(["", "-", "n/e", "nan", "inf", "-inf", "1e300", "12.5", "-499.99", "abc", "1,5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
stamps = st.one_of(
    st.datetimes(timezones=st.none()).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.none()).map(lambda d: d.isoformat() + "Z"),
    st.datetimes(timezones=st.none()).map(lambda d: d.isoformat() + "+01:00"),
    st.sampled_from(["", "2023-01-01T00:00:00Z", "2023-01-01T01:00:00Z", "not a date"]),
    st.text(max_size=25),
)
rows = st.lists(st.tuples(stamps, cells), max_size=30)
entsoe_labels = st.one_of(
    st.sampled_from(["01.06.2023 00:00 - 01.06.2023 01:00", "26.03.2023 02:00 - 26.03.2023 03:00",
                     "29.10.2023 02:00 (CEST) - 29.10.2023 02:00 (CET)", "xx", ""]),
    st.text(max_size=30),
)


def _market(path) -> MarketConfig:
    return MarketConfig(prices={"path": str(path), "fill": "ffill"})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=rows)
def test_random_tidy_rows_are_read_or_refused(tmp_path_factory, body):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["timestamp_utc", "price_de_lu_eur_per_mwh"])
    writer.writerows(body)
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    path.write_text(out.getvalue())
    try:
        prices = load_prices(_market(path))
    except DataError as err:
        assert str(err).strip()  # noqa: PT017 - either outcome is allowed, a traceback is not
    else:
        assert prices.price_eur_per_mwh.notna().all() and prices.index.is_monotonic_increasing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(["MTU (CET/CEST)", "MTU (UTC)", "MTU (XYZ)", "MTU"]),
       body=st.lists(st.tuples(entsoe_labels, cells), max_size=20))
def test_random_entsoe_rows_are_read_or_refused(tmp_path_factory, header, body):
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow([header, "Day-ahead Price [EUR/MWh]"])
    writer.writerows(body)
    path = tmp_path_factory.mktemp("entsoe") / "p.csv"
    path.write_text(out.getvalue())
    try:
        load_prices(_market(path))
    except DataError as err:
        assert str(err).strip()  # noqa: PT017 - either outcome is allowed, a traceback is not
