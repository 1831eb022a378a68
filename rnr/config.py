"""Config flows one way: dataclass defaults → YAML file → ``key=value`` overrides.

Unknown keys are an error that names the key and lists the known ones; the resolved
config is plain data (`to_dict`) so every run can write what it actually used.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config that cannot be used; the message says which key and how to fix it."""


def from_dict(cls: type[T], data: Mapping[str, Any] | None, where: str = "") -> T:
    """Build dataclass `cls` from nested plain data, refusing unknown keys."""
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        names = ", ".join(sorted(f"{where}{k}" for k in unknown))
        raise ConfigError(f"unknown config key(s) {names}; known keys: {', '.join(where + k for k in fields)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}{name} is a section: give it as a mapping, not {value!r}")
            kwargs[name] = from_dict(hint, value, where=f"{where}{name}.")
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            element_types = [t for t in typing.get_args(hint) if t is not Ellipsis] or [object]
            kwargs[name] = tuple(
                _coerce(f"{where}{name}", element_types[min(i, len(element_types) - 1)], v, _example(hint)) for i, v in enumerate(value)
            )
        else:
            kwargs[name] = _coerce(f"{where}{name}", hint, value)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        # the checks' messages mostly name the key already (fog.beta, p_fog): "fog.: fog.beta ..." said it twice
        prefix, message = where.rstrip(".") or cls.__name__, str(error)
        named = message.startswith(prefix) if where else message.split(" ", 1)[0].rstrip(":") in fields
        raise ConfigError(message if named else f"{prefix}: {message}") from None


def _coerce(key: str, hint: Any, value: Any, example: str | None = None) -> Any:
    """Numbers as the field declares them: YAML reads ``5e-5`` (no dot) as a string, and ``3`` as an int.

    An empty value (``p_fog=``) or a yes/no (``p_fog=true``) where a number is declared is
    refused here: the dataclass's own checks would compare them (``True <= 1``) or fail unreadably.

    >>> _coerce("lr", float, "5e-5"), _coerce("steps", int, "12"), _coerce("limit", int | None, None)
    (5e-05, 12, None)
    """
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    example = example or _example(options[0])
    if value is None and type(None) not in options and Any not in options:
        raise ConfigError(f"{key}: no value given; write e.g. {key}={example}")
    if isinstance(value, bool) and bool not in options and (float in options or int in options):
        raise ConfigError(f"{key}: {str(value).lower()} is not a number; write e.g. {key}={example}")
    if isinstance(value, bool) and str in options and bool not in options:
        raise ConfigError(f"{key}: YAML reads {str(value).lower()} (or yes/no, on/off) as a yes/no; quote the word: {key}: 'no'")
    if value is None or isinstance(value, bool) or str in options:
        return value
    try:
        if float in options and isinstance(value, (int, str)):
            return float(value)
        if int in options and isinstance(value, str):
            return int(value)
    except ValueError:
        raise ConfigError(f"{key}: {value!r} is not a number; give e.g. {key.rsplit('.', 1)[-1]}=0.001") from None
    return value


def _example(hint: Any) -> str:
    """A value of the declared type to show in a message."""
    if typing.get_origin(hint) is tuple:
        return "[0.5, 1.0]"
    return {float: "0.5", int: "1", bool: "true", str: "TEXT"}.get(hint, "VALUE")


def to_dict(config: Any) -> dict[str, Any]:
    """Plain nested data (tuples become lists) for YAML and JSON."""

    def plain(value: Any) -> Any:
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(config))


def apply_overrides(data: Mapping[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted keys from ``key=value`` strings; values are read as YAML (``[1, 2]``, ``0.5``)."""
    result = _deep_copy(dict(data))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value (e.g. fog.beta=[0.8,2.0])")
        key, raw = item.split("=", 1)
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = override_value(raw)
    return result


def override_value(raw: str) -> Any:
    """An override's value read as YAML, but only ``true`` / ``false`` as yes/no (YAML 1.2's rule).

    YAML 1.1 reads ``no``, ``off``, ``yes`` and ``on`` as booleans, so ``mixed_precision=no``
    (accelerate's own word) would arrive as False; on the command line they stay words.

    >>> override_value("no"), override_value("False"), override_value("[1, 2]"), override_value("5e-5")
    ('no', False, [1, 2], '5e-5')
    """
    value = yaml.safe_load(raw)
    if isinstance(value, bool) and raw.strip().lower() not in ("true", "false"):
        return raw.strip()
    return value


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Defaults, then the YAML file at `path` (if any), then the overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except OSError as error:
            raise ConfigError(f"{path}: cannot read config ({error.strerror})") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config file must hold a mapping of keys")
    return from_dict(cls, apply_overrides(data, overrides or []))


def with_overrides(config: T, **changes: Any) -> T:
    """`config` with the given fields replaced, skipping those left as None (CLI flags not given)."""
    return dataclasses.replace(config, **{k: v for k, v in changes.items() if v is not None})


def _deep_copy(data: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}
