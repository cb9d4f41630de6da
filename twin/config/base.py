"""What every configuration model shares: the frozen base, ``${VAR}`` expansion, secrets, YAML.

Three rules hold for every scenario and policy file:

* unknown keys are errors and models are immutable (:class:`FrozenModel`);
* ``${VAR}`` in a path is replaced by the environment's value, and an unset
  variable is a :class:`~twin.errors.ConfigError` (exit code 2), never an empty
  string or a literal ``${VAR}`` (:func:`expand_env`);
* secrets (passwords, tokens) never come from YAML: a scenario names the
  environment variable that holds one, and :func:`read_secret` reads it through
  pydantic-settings as a ``SecretStr`` that does not print.

YAML is parsed here only (:func:`read_yaml`); the domain topics never import it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic import create_model as _create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from twin.errors import ConfigError

DATA_ENV_VAR = "BESS_TWIN_DATA"
"""Environment variable that points to the folder of the real data sets."""

ENV_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""Pattern of an environment variable name, for keys that reference one."""

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


MAX_ENERGY_KWH = 1e7
"""Largest plausible battery energy: 10 GWh. [kWh]"""

MAX_POWER_KW = 1e7
"""Largest plausible power rating: 10 GW. [kW]"""

MAX_PRICE_EUR_PER_MWH = 1e5
"""Largest plausible magnitude of a price or a cost per MWh in a scenario. [EUR/MWh]"""


class FrozenModel(BaseModel):
    """A pydantic model that forbids unknown keys, NaN and infinity, and is frozen.

    ``allow_inf_nan=False``: every float key must be finite (``.inf`` and
    ``.nan`` in YAML are refused, naming the key), on top of each key's bounds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def expand_env(text: str) -> str:
    """Replace ``${VAR}`` references in ``text`` by the environment's values.

    The one expansion rule of every configuration file: ``$VAR`` without braces
    and ``~`` are left as they are, and a variable that is not set is an error.

    Parameters
    ----------
    text : str
        A path or string that may contain ``${VAR}`` references.

    Returns
    -------
    str
        ``text`` with every reference replaced.

    Raises
    ------
    ValueError
        If a referenced variable is not set; the message names it and says how to
        set it (pydantic turns it into a validation error of the key).
    """

    def _sub(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name)
        if value is None:
            hint = (
                f"export {name}=/path/to/shared/data (the folder that holds the data sets)"
                if name == DATA_ENV_VAR
                else f"export {name}=..."
            )
            raise ValueError(f"environment variable {name} is not set; {hint}")
        return value

    return _ENV_REF.sub(_sub, text)


def _expand_path(value: Path) -> Path:
    return Path(expand_env(str(value)))


ExpandedPath = Annotated[Path, AfterValidator(_expand_path)]
"""A path whose ``${VAR}`` references are expanded strictly on validation."""


def read_secret(env_var: str, key: str) -> SecretStr:
    """Read a secret from the environment through pydantic-settings.

    Parameters
    ----------
    env_var : str
        Name of the environment variable that holds the secret.
    key : str
        The configuration key that names ``env_var`` (for the error message),
        e.g. ``sites.0.device.password_env``.

    Returns
    -------
    pydantic.SecretStr
        The secret; ``str()`` and ``repr()`` print ``**********``.

    Raises
    ------
    ConfigError
        If the variable is not set or is empty.
    """
    settings_type = _create_model(
        "EnvSecret",
        __base__=BaseSettings,
        __config__=None,
        value=(SecretStr, Field(validation_alias=env_var, min_length=1)),
    )
    settings_type.model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)
    try:
        settings: Any = settings_type()
    except ValidationError:
        raise ConfigError(
            f"{key} = {env_var!r}: environment variable {env_var} is not set or empty; "
            f"export {env_var}=... (secrets are read from the environment, never from YAML)"
        ) from None
    secret: SecretStr = settings.value
    return secret


MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and sequences a configuration file may have. [levels]"""


class _TooDeep(yaml.YAMLError):
    """A document nested deeper than :data:`MAX_YAML_DEPTH`."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses repeated keys and too deep nesting.

    A mapping may not hold the same key twice (YAML 1.2 §3.2.1.1), and a document
    may not nest deeper than :data:`MAX_YAML_DEPTH`.

    The depth is checked while composing, before Python's recursion limit is near:
    a caught ``RecursionError`` leaves CPython 3.11 unable to compile code in that
    thread afterwards (``SystemError: AST constructor recursion depth mismatch``).
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooDeep(f"nested deeper than {MAX_YAML_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: SafeLoader reports it itself
                continue
            if repeated:
                first = seen[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice (first on line {first}); keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


MAX_YAML_BYTES = 10 * 1024 * 1024
"""Largest configuration file read. [bytes]"""


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file; the only place configuration YAML is read.

    Parameters
    ----------
    path : Path
        The file.
    what : str
        What the file is, for messages (``scenario``, ``policy``).

    Returns
    -------
    Any
        The parsed document (``None`` for an empty file).

    Raises
    ------
    ConfigError
        If the file does not exist, is too large, is not UTF-8, is not valid
        YAML, repeats a key in a mapping, or is nested too deeply.
    """
    if not path.is_file():
        raise ConfigError(f"{what} file not found: {path}")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size} bytes is too large for a {what} file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {err.start}: {err.reason}); save the {what} as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooDeep as err:
        raise ConfigError(f"{path}: nested too deeply to be a {what} ({err})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
