"""Scenario keys of live mode (``bess-twin live``): clock, speed-up and history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field

from twin.config.base import ExpandedPath, FrozenModel


class LiveConfig(FrozenModel):
    """How a live run replays the market and records what the sites did.

    Attributes
    ----------
    start : datetime.datetime or None
        Market time (local, naive) the replay starts at; ``None``: the first
        delivery day of the price data that leaves a full day of history.
    speed_up : float
        Market seconds per wall-clock second (60: one hour of market in a minute).
    duration_h : float or None
        Market hours to run, counted from the first control tick (start-up takes wall
        time); ``None``: until Ctrl-C or the end of the data. [h]
    control_interval_s : float
        Wall-clock period of the site control loop (read, guard, write). [s]
    history_path : Path
        SQLite file of the state history (WAL mode); the price feed's history is
        ``prices.sqlite`` beside it.
    price_poll_interval_s : float
        Market time between two polls of the price feed (the seed's 5 minutes). [s]
    mqtt_broker : {"auto", "mosquitto", "amqtt", "none"}
        Broker to start for MQTT sites whose simulator is spawned: Mosquitto when
        installed (``auto``), the embedded amqtt broker, or none (use a running one).
    """

    start: dt.datetime | None = Field(
        None, description="Market time (local, naive) the replay starts at; default: the second day of the price data"
    )
    speed_up: float = Field(60.0, gt=0, le=10_000)
    duration_h: float | None = Field(None, gt=0)
    control_interval_s: float = Field(0.5, gt=0, le=60)
    history_path: ExpandedPath = Path("runs/live/history.sqlite")
    price_poll_interval_s: float = Field(
        300.0, gt=0, le=86_400, description="Market time between polls of the price feed (seed: 5 min) [s]"
    )
    mqtt_broker: Literal["auto", "mosquitto", "amqtt", "none"] = "auto"
