"""Search spaces in YAML: which config fields a study varies, and over what range.

A space file maps a dotted path into a config (the env config for ``tune baseline``, the
agent config for ``tune agent``) to its distribution::

    baseline.normal.spread_multiplier: {low: 0.5, high: 3.0}      # uniform float
    strategy.trend_threshold: {low: 0.3, high: 3.0, log: true}     # log-uniform
    hyperparameters.n_epochs: {low: 3, high: 10, int: true}        # integer
    hyperparameters.n_steps: {choices: [32, 64, 128]}              # categorical
    policy_kwargs.net_arch: {choices: {small: [64, 64], large: [256, 256]}}  # named values

Shipped spaces are ``mm_gym/configs/spaces/<name>.yaml`` (``baseline``, ``ppo``), resolved by
name like any shipped config. A path segment into a list is an index, or one of the baseline
table's column names (``spread_multiplier``, ``inventory_skew``, ``size_fraction``). ``step``
makes a float or integer range discrete. Every entry is checked when the space is read: an
empty or inverted range, a bad option or a path the config does not take is a one-line
``ConfigError`` naming the parameter.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mm_gym.config import load_yaml_mapping
from mm_gym.errors import ConfigError
from mm_gym.strategy.layout import PARAM_NAMES

__all__ = ["Param", "SearchSpace", "get_path", "set_path"]

_RANGE_KEYS = {"low", "high", "log", "step", "int"}


@dataclasses.dataclass(frozen=True)
class Param:
    """One searched field: a float or integer range, or a list of choices."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    is_int: bool = False
    choices: tuple = ()
    values: tuple = ()  # what each choice puts into the config (named choices), else ()

    @property
    def categorical(self) -> bool:
        return bool(self.choices)

    def spec(self) -> dict[str, Any]:
        """A plain description (what a study records to recognise its space)."""
        if self.categorical:
            out: dict[str, Any] = {"choices": list(self.choices)}
            if self.values:
                out["values"] = [copy.deepcopy(v) for v in self.values]
            return out
        out = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        if self.is_int:
            out["int"] = True
        return out

    def config_value(self, sampled: Any) -> Any:
        """What a sampled value puts into the config (a named choice becomes its value)."""
        if self.values:
            return copy.deepcopy(self.values[self.choices.index(sampled)])
        return sampled

    def edges(self) -> list[Any]:
        """The values at the ends of the range (every choice, for a categorical)."""
        return list(self.choices) if self.categorical else [self.low, self.high]


def _number(value: Any) -> Any:
    """YAML reads ``1e-5`` (no dot) as a string: take it as the number."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _parse(name: str, entry: Any) -> Param:
    where = f"search space parameter {name!r}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping {{low, high}} or {{choices}}")
    if "choices" in entry:
        extra = sorted(set(entry) - {"choices"})
        if extra:
            raise ConfigError(f"{where}: 'choices' takes no other key ({', '.join(extra)})")
        raw = entry["choices"]
        if isinstance(raw, Mapping):
            names, values = tuple(str(k) for k in raw), tuple(raw.values())
        elif isinstance(raw, list):
            names, values = tuple(raw), ()
            if not all(v is None or isinstance(v, bool | int | float | str) for v in names):
                raise ConfigError(
                    f"{where}: choices must be numbers, strings or booleans; "
                    "name structured values ({{name: value, ...}})"
                )
        else:
            raise ConfigError(f"{where}: choices must be a list or a mapping of named values")
        if not names:
            raise ConfigError(f"{where}: empty list of choices")
        if len(set(map(repr, names))) != len(names):
            raise ConfigError(f"{where}: repeated choices {list(names)}")
        return Param(name, choices=names, values=values)
    unknown = sorted(set(entry) - _RANGE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed are choices, high, int, log, low, step"
        )
    if "low" not in entry or "high" not in entry:
        raise ConfigError(f"{where}: needs both low and high")
    low, high, step = (_number(entry.get(k)) for k in ("low", "high", "step"))
    is_int = entry.get("int", False)
    log = entry.get("log", False)
    for key, flag in (("int", is_int), ("log", log)):
        if not isinstance(flag, bool):
            raise ConfigError(f"{where}: {key}={flag!r}: expected true or false")
    for key, value in (("low", low), ("high", high), ("step", step)):
        if value is None and key == "step":
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise ConfigError(f"{where}: {key}={value!r}: expected a finite number")
        if is_int and not float(value).is_integer():
            raise ConfigError(f"{where}: {key}={value!r}: expected a whole number (int: true)")
    if low == high:
        raise ConfigError(f"{where}: empty range [{low}, {high}]; low must be below high")
    if low > high:
        raise ConfigError(f"{where}: inverted range [{low}, {high}]; low must be below high")
    if log and low <= 0:
        raise ConfigError(f"{where}: log: true needs low > 0, not {low}")
    if step is not None:
        if log:
            raise ConfigError(f"{where}: step and log: true cannot be combined")
        if not 0 < step <= high - low:
            raise ConfigError(f"{where}: step={step!r}: allowed range is (0, high - low]")
    if is_int:
        low, high = int(low), int(high)
        step = None if step is None else int(step)
    else:
        low, high = float(low), float(high)
        step = None if step is None else float(step)
    return Param(name, low=low, high=high, log=log, step=step, is_int=is_int)


def _segments(path: str) -> list[str]:
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ConfigError(f"search space parameter {path!r}: expected a dotted path like a.b.c")
    return parts


def _index(container: Any, key: str, path: str) -> Any:
    if isinstance(container, Mapping):
        return key
    if isinstance(container, list | tuple):
        if key.isdigit():
            k = int(key)
        elif len(container) == len(PARAM_NAMES) and key in PARAM_NAMES:
            k = PARAM_NAMES.index(key)
        else:
            raise ConfigError(
                f"search space parameter {path!r}: {key!r} is not an index of a list of "
                f"{len(container)} (a number, or {', '.join(PARAM_NAMES)} for a table row)"
            )
        if k >= len(container):
            raise ConfigError(f"search space parameter {path!r}: index {k} out of range")
        return k
    raise ConfigError(f"search space parameter {path!r}: {key!r} is below a plain value")


def get_path(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``None`` where a mapping lacks the key)."""
    node: Any = data
    for key in _segments(path):
        k = _index(node, key, path)
        if isinstance(node, Mapping) and k not in node:
            return None
        node = node[k]
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at a dotted path; missing mapping keys are created (the config's own
    validation rejects a key it does not take), a tuple on the way becomes a list."""
    keys = _segments(path)
    node: Any = data
    for depth, key in enumerate(keys):
        k = _index(node, key, path)
        last = depth == len(keys) - 1
        if last:
            node[k] = value
            return
        child = node.get(k) if isinstance(node, Mapping) else node[k]
        if child is None:
            child = {}
        elif isinstance(child, tuple):
            child = list(child)
        elif isinstance(child, Mapping):
            child = dict(child)
        node[k] = child
        node = child


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """The parameters of a study, in file order."""

    params: tuple[Param, ...]
    source: str = "<space>"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<space>") -> SearchSpace:
        if not data:
            raise ConfigError(f"search space {source}: no parameters")
        params = []
        for name, entry in data.items():
            if not isinstance(name, str):
                raise ConfigError(f"search space {source}: parameter names must be strings")
            _segments(name)
            try:
                params.append(_parse(name, entry))
            except ConfigError as err:
                raise ConfigError(f"{source}: {err}") from None
        return cls(tuple(params), source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> SearchSpace:
        return cls.from_mapping(load_yaml_mapping(path), source=str(path))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def spec(self) -> dict[str, Any]:
        """``{name: distribution}``: what a study records to recognise its space."""
        return {p.name: p.spec() for p in self.params}

    def sample(self, trial: Any) -> dict[str, Any]:
        """One value per parameter from an Optuna trial (the trial's own values)."""
        out: dict[str, Any] = {}
        for p in self.params:
            if p.categorical:
                out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.is_int:
                out[p.name] = trial.suggest_int(p.name, p.low, p.high, step=p.step or 1, log=p.log)
            else:
                out[p.name] = trial.suggest_float(p.name, p.low, p.high, step=p.step, log=p.log)
        return out

    def apply(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the plain config ``base`` with the sampled values put in."""
        data = copy.deepcopy(dict(base))
        by_name = {p.name: p for p in self.params}
        for name, value in values.items():
            set_path(data, name, by_name[name].config_value(value))
        return data

    def starting_values(self, base: Mapping[str, Any]) -> dict[str, Any] | None:
        """The base config's own values as a trial of this space, or None if one is outside."""
        out: dict[str, Any] = {}
        for p in self.params:
            value = get_path(base, p.name)
            if p.categorical:
                matches = [
                    c for c, v in zip(p.choices, p.values or p.choices, strict=True) if v == value
                ]
                if not matches:
                    return None
                out[p.name] = matches[0]
            elif (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not p.low <= value <= p.high
            ):
                return None
            else:
                out[p.name] = int(value) if p.is_int else float(value)
        return out

    def check_against(self, base: Mapping[str, Any], build: Callable[[dict], Any]) -> None:
        """Build the config with each parameter at each end of its range (the others as in
        ``base``): a path or value the config rejects is a one-line error naming it."""
        for p in self.params:
            for value in p.edges():
                try:
                    build(self.apply(base, {p.name: value}))
                except ConfigError as err:
                    raise ConfigError(
                        f"{self.source}: parameter {p.name!r} at {value!r}: {err}"
                    ) from None
