"""Frequency containment reserve (FCR) as a value stream: capacity prices and the 15-minute criterion."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from twin.config.base import ExpandedPath, FrozenModel


class FcrConfig(FrozenModel):
    """FCR capacity market (symmetric product in 4-h blocks, pay-as-cleared).

    ``prices`` is a CSV with ``timestamp_utc`` (block start), ``block_hours`` and
    ``fcr_capacity_price_eur_per_mw`` (per MW for the whole block), such as the
    SMARD-derived file in ``fcr_capacity_prices_de``. A site offering a band of
    ``r`` kW keeps ``r`` kW of power and the energy for ``r`` kW over
    ``prequalified_duration_min`` in each direction free in every step of the
    block (the "15-minute criterion" for limited-energy reservoirs: Commission
    Regulation (EU) 2017/1485 (SO GL) Art. 156(9)-(11) and the German TSOs'
    FCR prequalification rules). Blocks without a published price are not
    offered.
    """

    enabled: bool = Field(True, description="Offer FCR where the strategy has the FCR term")
    prices: ExpandedPath = Field(description="CSV of FCR capacity prices per block: timestamp_utc, block_hours, fcr_capacity_price_eur_per_mw")
    prequalified_duration_min: float = Field(15.0, gt=0, le=240, description="Full activation each way the SoC must allow for [min]")
    forecast: Literal["persistence", "perfect"] = Field("persistence", description="persistence: the same block of the last day whose results were public at the FCR gate (D-1 08:00); perfect: the realised price (an upper bound)")
