"""The base of every configuration model: unknown keys are errors, instances are immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A pydantic model that forbids unknown keys and is frozen (hashable, safe to share)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
