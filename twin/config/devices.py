"""Scenario keys that say which device a site drives and how the edge keeps it safe.

``device: {kind: simulated | modbus | mqtt, ...}`` picks the implementation; the
registry in ``hardware.registry`` maps the kind to a class, so no other code
branches on it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr, model_validator

from twin.config.base import ENV_VAR_NAME, ExpandedPath, FrozenModel, expand_env, read_secret


class SimulatedDeviceConfig(FrozenModel):
    """A SimPy battery in the site's own process (the default)."""

    kind: Literal["simulated"] = Field(
        "simulated", description="A SimPy battery in the site's own process"
    )


class RestDeviceConfig(FrozenModel):
    """A battery that pushes its telemetry to the REST API (``POST /api/v1/telemetry/{site_id}`` with its API key).

    The reply to each push carries the setpoint the EMS wants, so a device
    behind a firewall needs no inbound connection.
    """

    kind: Literal["rest"] = Field(description="A battery pushing telemetry over the REST API")
    stale_after_s: float = Field(30.0, gt=0, description="A reading older than this counts as stale [s]")


class SimulatorSpawn(FrozenModel):
    """Let ``bess-twin live`` start the device simulator as a child process.

    The child is an ordinary ``bess-twin modbus-sim`` / ``mqtt-sim`` process: it can
    be killed and started again by hand while the fleet runs.
    """

    spawn: bool = Field(True, description="Start the simulator when the live run starts")
    soc_initial: float | None = Field(None, ge=0, le=1, description="Start SoC [fraction]")


class ModbusDeviceConfig(FrozenModel):
    """A battery behind Modbus TCP, read and written with a register profile."""

    kind: Literal["modbus"] = Field(description="A battery behind Modbus TCP")
    host: str = Field("127.0.0.1", description="Host name or IP address of the Modbus server")
    port: int = Field(502, ge=1, le=65535, description="TCP port of the Modbus server")
    device_id: int = Field(1, ge=0, le=255, description="Modbus unit / device id")
    profile: Annotated[str, AfterValidator(expand_env)] = Field(
        "seed",
        description="Profile name under hardware/profiles/ or a path to a YAML file (${VAR} expanded)"
    )
    timeout_s: float = Field(1.0, gt=0, description="Per-request timeout [s]")
    retries: int = Field(1, ge=0, le=10, description="Retries per request")
    reconnect_delay_s: float = Field(0.2, gt=0, description="First reconnect delay [s]")
    reconnect_delay_max_s: float = Field(5.0, gt=0, description="Reconnect back-off cap [s]")
    simulator: SimulatorSpawn | None = Field(
        None, description="Let `bess-twin live` start a Modbus simulator for this site"
    )


class MqttTls(FrozenModel):
    """TLS settings of an MQTT connection (paths to PEM files)."""

    ca_certs: ExpandedPath | None = Field(
        None, description="CA certificate file (PEM) that signs the broker's certificate"
    )
    certfile: ExpandedPath | None = Field(None, description="Client certificate file (PEM)")
    keyfile: ExpandedPath | None = Field(None, description="Client private key file (PEM)")
    insecure: bool = Field(False, description="Skip host-name verification (tests only)")


class MqttDeviceConfig(FrozenModel):
    """A battery that publishes telemetry and takes setpoints over MQTT.

    Topics are ``<prefix>/telemetry/bess/{soc,power,temperature}`` and
    ``<prefix>/commands/bess/setpoint``; with an empty prefix they are the seed's
    plain ``bess/soc``, ``bess/power``, ``bess/temperature``, ``bess/setpoint``.
    """

    kind: Literal["mqtt"] = Field(description="A battery behind MQTT")
    host: str = Field("127.0.0.1", description="Host name or IP address of the MQTT broker")
    port: int = Field(1883, ge=1, le=65535, description="TCP port of the MQTT broker")
    prefix: str = Field("", pattern=r"^[^#+]*$", description="Per-site topic prefix")
    qos: Literal[0, 1, 2] = Field(
        1, description="MQTT quality of service of telemetry and setpoints"
    )
    keepalive_s: int = Field(10, ge=2, description="MQTT keep-alive interval [s]")
    username: str | None = Field(None, description="MQTT user name (its password: password_env)")
    password_env: str | None = Field(
        None,
        pattern=ENV_VAR_NAME,
        description=(
            "Name of the environment variable that holds the MQTT password (read when the "
            "scenario is loaded; secrets never come from YAML)"
        ),
    )
    tls: MqttTls | None = Field(None, description="TLS settings; none: plain TCP")
    reconnect_delay_s: float = Field(0.2, gt=0, description="First reconnect delay [s]")
    reconnect_delay_max_s: float = Field(5.0, gt=0, description="Reconnect back-off cap [s]")
    simulator: SimulatorSpawn | None = Field(
        None, description="Let `bess-twin live` start an MQTT battery simulator for this site"
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "password: secrets are never read from YAML; set password_env: MQTT_PASSWORD "
                "and export MQTT_PASSWORD=..."
            )
        return data

    @model_validator(mode="after")
    def _check_auth(self) -> MqttDeviceConfig:
        if self.password_env is not None:
            if self.username is None:
                raise ValueError("password_env is set but username is not; set both or neither")
            read_secret(self.password_env, "password_env")
        return self

    def password(self) -> SecretStr | None:
        """The MQTT password from the environment variable ``password_env``, or ``None``.

        Raises
        ------
        ConfigError
            If ``password_env`` is set but the variable is not (any more).
        """
        if self.password_env is None:
            return None
        return read_secret(self.password_env, "password_env")


DeviceConfig = Annotated[
    SimulatedDeviceConfig | ModbusDeviceConfig | MqttDeviceConfig | RestDeviceConfig,
    Field(discriminator="kind"),
]


class SafetyConfig(FrozenModel):
    """Protection at the device edge (``hardware.safety``).

    Attributes
    ----------
    watchdog_s : float
        No good telemetry for this long: the site goes to its safe state (0 kW)
        and stops trading. [s, wall clock]
    stale_after_s : float
        A reading older than this is ``stale``. [s, wall clock]
    external_setpoint_expiry_s : float
        An operator's setpoint falls back to the EMS schedule after this time
        (OpenEMS uses 60 s). [s, wall clock]
    temperature_trip_c : float
        At or above this cell temperature the site goes safe. [°C]
    max_power_ratio : float
        A reading ``|power_kw|`` above this multiple of the rating is invalid. [per unit]
    max_clock_skew_s : float
        A reading stamped further than this ahead of the run's clock is invalid
        (it would otherwise become the reference that later readings never
        pass). [s, on the run's clock]
    """

    watchdog_s: float = Field(5.0, gt=0)
    stale_after_s: float = Field(3.0, gt=0)
    external_setpoint_expiry_s: float = Field(60.0, gt=0)
    temperature_trip_c: float = 55.0
    max_power_ratio: float = Field(1.5, ge=1)
    max_clock_skew_s: float = Field(300.0, gt=0)
