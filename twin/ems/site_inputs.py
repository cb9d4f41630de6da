"""What the site LP reads (:class:`SiteInputs`) and what it returns (:class:`SitePlan`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.types import FloatArray


@dataclass(frozen=True)
class SiteInputs:
    """Inputs and term weights of one solve over T steps.

    Attributes
    ----------
    arbitrage_eur_per_mwh : np.ndarray, shape (T,)
        Price the battery's own power is valued at (arbitrage term); zeros: off. [EUR/MWh]
    import_eur_per_mwh, export_eur_per_mwh : np.ndarray, shape (T,)
        Tariff prices of PCC import and export (energy-bill term); zeros: off. [EUR/MWh]
    load_kw, pv_kw : np.ndarray, shape (T,)
        Load and available PV. [kW]
    fcr_eur_per_mw_h : np.ndarray, shape (T,)
        FCR capacity price per MW and hour of each step's block; zeros: off. [EUR/MW/h]
    fcr_max_kw : np.ndarray, shape (T,)
        Largest FCR band per step (0 where FCR is not offered). [kW]
    fcr_tie : np.ndarray of bool, shape (T,)
        True where step t is in the same FCR block as step t-1.
    period_mask : np.ndarray, shape (T,)
        1 where a step is in the current demand-charge period, 0 in the next
        (ignored by a problem built with fixed periods).
    demand_charge_eur_per_kw : sequence of float, length K (2 unless fixed periods)
        Charge on the peak import of each period; 0: off. [EUR/kW]
    peak_floor_kw : sequence of float, length K
        Peak import already reached in each period. [kW]
    load_balancing_eur_per_kw : float
        Penalty per kW of step-to-step change of grid power; 0: off. [EUR/kW]
    grid_prev_kw : float
        Grid power of the step before the horizon. [kW]
    wear_eur_per_mwh : float
        Degradation cost plus the cycle-pacing shadow price on throughput. [EUR/MWh]
    """

    arbitrage_eur_per_mwh: FloatArray
    import_eur_per_mwh: FloatArray
    export_eur_per_mwh: FloatArray
    load_kw: FloatArray
    pv_kw: FloatArray
    fcr_eur_per_mw_h: FloatArray
    fcr_max_kw: FloatArray
    fcr_tie: np.ndarray
    period_mask: FloatArray
    demand_charge_eur_per_kw: tuple[float, ...] = (0.0, 0.0)
    peak_floor_kw: tuple[float, ...] = (0.0, 0.0)
    load_balancing_eur_per_kw: float = 0.0
    grid_prev_kw: float = 0.0
    wear_eur_per_mwh: float = 0.0


@dataclass(frozen=True)
class SitePlan:
    """An optimal schedule of one site over T steps.

    Attributes
    ----------
    power_kw : np.ndarray, shape (T,)
        Battery power at the PCC, positive discharging. [kW]
    p_charge_kw, p_discharge_kw : np.ndarray, shape (T,)
        Split battery powers, never both > 0 in a step. [kW]
    energy_kwh : np.ndarray, shape (T + 1,)
        Stored energy at each step boundary. [kWh]
    fcr_band_kw : np.ndarray, shape (T,)
        Symmetric FCR band held in each step. [kW]
    grid_kw : np.ndarray, shape (T,)
        PCC flow ``load - pv_used - power``, positive importing. [kW]
    pv_used_kw : np.ndarray, shape (T,)
        PV after curtailment. [kW]
    unserved_kw : np.ndarray, shape (T,)
        Load the import limit could not serve. [kW]
    objective_eur : float
        The solver's objective (includes non-money terms). [EUR]
    """

    power_kw: FloatArray
    p_charge_kw: FloatArray
    p_discharge_kw: FloatArray
    energy_kwh: FloatArray
    fcr_band_kw: FloatArray
    grid_kw: FloatArray
    pv_used_kw: FloatArray
    unserved_kw: FloatArray
    objective_eur: float
