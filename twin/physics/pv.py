"""PV power from weather with pvlib: transposition, cell temperature, PVWatts DC, system losses.

Chain (per hourly weather row, solar position at the middle of the interval):
DNI from GHI and DHI (``pvlib.irradiance.dni``, zero near the horizon);
plane-of-array irradiance with the Hay-Davies sky model
(``pvlib.irradiance.get_total_irradiance``); cell temperature with the Faiman
model (``pvlib.temperature.faiman``); DC power with PVWatts
(``pvlib.pvsystem.pvwatts_dc``); then flat system losses (PVWatts default 14 %).
No inverter clipping.

References
----------
.. [1] W. F. Holmgren, C. W. Hansen, M. A. Mikofski, "pvlib python: a python
   package for modeling solar energy systems", JOSS 3(29), 884, 2018.
.. [2] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
.. [3] D. Faiman, "Assessing the outdoor operating temperature of photovoltaic
   modules", Prog. Photovolt. 16(4), 2008.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib  # type: ignore[import-untyped]

from twin.config.ems import PvSystemConfig


def pv_power_kw(weather: pd.DataFrame, system: PvSystemConfig) -> pd.Series:
    """AC power of ``system`` for each weather interval.

    Parameters
    ----------
    weather : pd.DataFrame
        Columns ``ghi_w_per_m2``, ``dhi_w_per_m2``, ``temp_air_c``,
        ``wind_speed_m_per_s``; UTC interval-start index (hourly means).
    system : PvSystemConfig

    Returns
    -------
    pd.Series
        Mean power per interval, >= 0, same index. [kW]
    """
    step = pd.Timedelta(weather.index[1] - weather.index[0]) if len(weather) > 1 else pd.Timedelta("1h")
    mid = pd.DatetimeIndex(weather.index) + step / 2
    loc = pvlib.location.Location(system.latitude_deg, system.longitude_deg)
    solpos = loc.get_solarposition(mid)
    ghi = weather["ghi_w_per_m2"].to_numpy(dtype=float)
    dhi = np.minimum(weather["dhi_w_per_m2"].to_numpy(dtype=float), ghi)
    zenith = solpos["apparent_zenith"].to_numpy()
    dni = pvlib.irradiance.dni(ghi, dhi, zenith, zenith_threshold_for_zero_dni=87.0)
    dni = np.nan_to_num(np.asarray(dni, dtype=float), nan=0.0)
    extra = pvlib.irradiance.get_extra_radiation(mid).to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        system.tilt_deg,
        system.azimuth_deg,
        zenith,
        solpos["azimuth"].to_numpy(),
        dni,
        ghi,
        dhi,
        dni_extra=extra,
        model="haydavies",
    )
    poa_global = np.nan_to_num(np.asarray(poa["poa_global"], dtype=float), nan=0.0)
    temp_cell = pvlib.temperature.faiman(
        poa_global, weather["temp_air_c"].to_numpy(), weather["wind_speed_m_per_s"].to_numpy()
    )
    dc_w = pvlib.pvsystem.pvwatts_dc(poa_global, temp_cell, system.kwp * 1000.0, system.gamma_pdc_per_c)
    ac_kw = np.clip(np.asarray(dc_w, dtype=float) * (1.0 - system.losses_fraction) / 1000.0, 0.0, None)
    return pd.Series(ac_kw, index=weather.index, name="pv_kw")
