"""Base class for every validated input model (scenarios, sweeps, exercise logs).

Pydantic's own ``extra="forbid"`` says *that* a key is not allowed; users also need to know which
keys are. :class:`StrictModel` refuses unknown keys with the list of valid ones (Starsim's
``Pars`` habit), and :func:`format_location` turns pydantic's error locations into the
``hospitals[2].trauma_level`` paths that our error lines show.

Two checks every input model needs hold here, once, so that no field can forget them:
infinite and NaN numbers are refused in every float field (``.inf`` is valid YAML, and an
infinite delay or range reaches ``math.floor`` or a heap as an OverflowError or a run that never
ends), and every ``*_range`` field given as ``[low, high]`` must have ``low <= high``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from mcsim.errors import shorten


class StrictModel(BaseModel):
    """A pydantic model that rejects unknown keys, naming the valid ones."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=False, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keys = _keys_of(cls)
            if not keys.accepted.issuperset(data):
                unknown = [k for k in data if k not in keys.accepted]
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key '{key}'; valid keys: {valid}",
                    {"key": shorten(str(unknown[0])), "valid": ", ".join(keys.valid)},
                )
            for key in keys.ranges:
                value = data.get(key)
                if value is not None and _disordered(value):
                    raise PydanticCustomError(
                        "range_order",
                        "must be [low, high] with low <= high, got [{low}, {high}]",
                        {"key": key, "low": value[0], "high": value[1]},
                    )
        return data


@dataclass(frozen=True)
class _Keys:
    """A model's keys, worked out once per class.

    A region of 30,000 roads and nodes is validated one model each; rebuilding these per row
    was a third of its load time.
    """

    valid: tuple[str, ...]  # the names a file uses (aliases), in field order, for messages
    accepted: frozenset[str]  # those and the field names
    ranges: tuple[str, ...]  # accepted keys ending in ``_range``


_KEYS: dict[type, _Keys] = {}


def _keys_of(cls: type[BaseModel]) -> _Keys:
    keys = _KEYS.get(cls)
    if keys is None:
        valid = tuple(field.alias or name for name, field in cls.model_fields.items())
        accepted = frozenset(valid) | frozenset(cls.model_fields)
        ranges = tuple(k for k in accepted if isinstance(k, str) and k.endswith("_range"))
        keys = _KEYS[cls] = _Keys(valid, accepted, ranges)
    return keys


def _disordered(value: Any) -> bool:
    """Whether ``value`` is a pair of numbers whose first is above its second."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return False
    low, high = value
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    return numbers and low > high


def format_location(loc: Sequence[str | int]) -> str:
    """``("hospitals", 2, "trauma_level")`` → ``"hospitals[2].trauma_level"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part:
            part = shorten(str(part))  # a key of a free mapping can be any length
            out += f".{part}" if out else part
    return out


def error_lines(exc: Any) -> list[tuple[str, str]]:
    """(path, message) pairs for each problem in a pydantic ``ValidationError``.

    Unknown keys get the key itself appended to the path, and pydantic's internal location
    parts (union member names such as ``function-after[...]``) are dropped.
    """
    out = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or "-" in p))]
        msg = err["msg"]
        if err["type"] == "unknown_key":
            loc.append(err["ctx"]["key"])
            msg = f"unknown key; valid keys: {err['ctx']['valid']}"
        elif err["type"] == "range_order":
            loc.append(err["ctx"]["key"])
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append((format_location(loc), msg))
    return out
