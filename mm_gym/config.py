"""Frozen, validated configuration objects built from keyword arguments or YAML."""

from __future__ import annotations

import dataclasses
import importlib.resources
import math
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml

from mm_gym.errors import ConfigError

T = TypeVar("T", bound="Config")


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ConfigError unless ``low <= value <= high`` (open ends when asked) and finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}={value!r}: expected a number")
    if not math.isfinite(value):
        raise ConfigError(f"{name}={value!r}: must be finite")
    lo_ok = low is None or (value > low if low_open else value >= low)
    hi_ok = high is None or (value < high if high_open else value <= high)
    if not (lo_ok and hi_ok):
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        lb = "(" if low_open or low is None else "["
        hb = ")" if high_open or high is None else "]"
        raise ConfigError(f"{name}={value!r}: allowed range is {lb}{lo}, {hi}{hb}")


def check_choice(name: str, value: Any, allowed: tuple) -> None:
    """Raise ConfigError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: allowed values are {', '.join(map(repr, allowed))}")


def check_bool(name: str, value: Any) -> None:
    """Raise ConfigError unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r}: expected true or false")


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class: a frozen dataclass that validates itself on construction.

    Subclasses implement ``validate``; nested ``Config`` fields are built from mappings.
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            sub = _nested_type(hints.get(f.name))
            value = getattr(self, f.name)
            if sub is None:
                continue
            if isinstance(value, Mapping):
                object.__setattr__(self, f.name, sub.from_dict(value, prefix=f"{f.name}."))
            elif not isinstance(value, sub):
                raise ConfigError(
                    f"{f.name}={value!r}: expected a mapping of {sub.__name__} fields"
                )
        self.validate()

    def validate(self) -> None:  # noqa: B027 - optional hook
        """Check every field; raise ConfigError naming field, value and allowed range."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None, *, prefix: str = "") -> Self:
        """Build from a mapping; unknown keys are an error, nested mappings become configs."""
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"{prefix}{unknown[0]}: unknown key for {cls.__name__}; "
                f"allowed keys are {', '.join(sorted(names))}"
            )
        try:
            return cls(**data)
        except ConfigError as err:
            if prefix and not str(err).startswith(prefix):
                raise ConfigError(f"{prefix}{err}") from None
            raise

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> Self:
        """Load a YAML file into this class, then apply keyword overrides."""
        data = load_yaml_mapping(path)
        return cls.from_dict(deep_merge(data, overrides))

    def replace(self, **changes: Any) -> Self:
        """A copy with fields changed (nested mappings merge into nested configs)."""
        return type(self).from_dict(deep_merge(self.to_dict(), changes))

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, suitable for YAML."""
        return _plain(dataclasses.asdict(self))


SHIPPED_CONFIGS = Path(str(importlib.resources.files("mm_gym.configs")))  # top-level configs/
CONFIG_KINDS = ("agents", "envs", "markets", "spaces")


def shipped_configs(kind: str) -> list[str]:
    """Names of the YAML configs of ``kind`` (agents, envs, markets, spaces: search spaces)
    shipped in the package."""
    check_choice("config kind", kind, CONFIG_KINDS)
    return sorted(p.stem for p in (SHIPPED_CONFIGS / kind).glob("*.yaml"))


def resolve_config(kind: str, value: str | Path) -> Path:
    """The YAML file that ``value`` names: an existing file, else a shipped config's name.

    ``resolve_config("agents", "ppo")`` is the package's ``configs/agents/ppo.yaml``;
    ``resolve_config("agents", "my/ppo.yaml")`` is that file. Anything else is a ConfigError
    listing the shipped names.
    """
    check_choice("config kind", kind, CONFIG_KINDS)
    path = Path(value)
    if path.is_file():
        return path
    names = shipped_configs(kind)
    if str(value) in names:
        return SHIPPED_CONFIGS / kind / f"{value}.yaml"
    raise ConfigError(
        f"{kind[:-1]} config {str(value)!r}: no such file, and not a shipped name "
        f"({', '.join(names)})"
    )


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r}: no such file")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        what = getattr(err, "problem", None) or type(err).__name__
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"config file {str(p)!r}: not valid YAML ({what}{at})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(p)!r}: expected a mapping at the top level")
    return data


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``extra`` into a copy of ``base``."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Config):
            value = value.to_dict()
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def _nested_type(annotation: Any) -> type[Config] | None:
    if isinstance(annotation, type) and issubclass(annotation, Config):
        return annotation
    return None
