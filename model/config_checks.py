"""The checks every configuration file of the model shares: :class:`ConfigError`, the
strict base of the files' schemas (:class:`Strict`), the bounds of numbers
(:func:`check_number`, :func:`bounded`), pydantic errors as one line
(:func:`schema_error`), and reading TOML files and months (:func:`read_toml`,
:func:`parse_month`). :mod:`model.config` re-exports them."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(ValueError):
    """A configuration problem, described in one line naming the file and field."""


class Strict(BaseModel):
    """Base of the schemas of the configuration files: unknown keys are refused, and so
    are NaN and infinity in any number field."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# -- numbers -------------------------------------------------------------------------------
# Every number the model reads, from whichever file, goes through :func:`check_number`:
# finite, within its bounds, and (for whole numbers) within what the model stores it in.

WHOLE_NUMBER_LIMIT = 32_767
"""Largest magnitude of a whole-number input: the narrowest storage of counts and weeks in
``model/state.py`` is a 16-bit integer (``numpy.int16``). A whole-number parameter of
``base.toml`` must have ``min`` and ``max`` within +-this; other whole numbers (closure
weeks, organization counts) have narrower limits of their own."""


def check_number(
    value: Any, where: str, *, lo: float | None = None, hi: float | None = None, whole: bool = False
) -> int | float:
    """``value`` as a finite number within ``[lo, hi]`` (a whole number if ``whole``), or a
    one-line :class:`ConfigError` starting with ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if whole:
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(f"{where} must be a whole number, got {value!r}")
            value = int(value)
        lo = -WHOLE_NUMBER_LIMIT if lo is None else lo
        hi = WHOLE_NUMBER_LIMIT if hi is None else hi
    if lo is not None and value < lo:
        raise ConfigError(f"{where} = {value} is below its minimum {lo}")
    if hi is not None and value > hi:
        raise ConfigError(f"{where} = {value} is above its maximum {hi}")
    return value


def bounded(lo: float | None = None, hi: float | None = None, whole: bool = False):
    """A pydantic validator (for ``Annotated[..., AfterValidator(...)]``) applying the
    checks of :func:`check_number`, so that the CSV and TOML tables check their numbers as
    ``base.toml`` parameters are checked."""
    kind = "a whole number" if whole else "a number"

    def fmt(v: float) -> str:
        return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"

    if lo is not None and hi is not None:
        allowed = f"{kind} from {fmt(lo)} to {fmt(hi)}"
    else:
        allowed = f"{kind} >= {fmt(lo)}" if lo is not None else f"{kind} <= {fmt(hi)}" if hi is not None else kind

    def validate(value):
        if value is None:
            return value
        try:
            return check_number(value, "value", lo=lo, hi=hi, whole=whole)
        except ConfigError:
            raise ValueError(f"must be {allowed}, got {value!r}") from None

    return validate


def _allowed_keys(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def schema_error(
    exc: ValidationError,
    where: str,
    model: type[BaseModel] | None = None,
    names: Mapping[str, type[BaseModel]] | None = None,
) -> ConfigError:
    """A pydantic error as a one-line :class:`ConfigError`: ``where: field: what is allowed``.

    ``model`` is the schema validated (to list the keys allowed when one is unknown);
    ``names`` maps a field holding nested tables to their schema, for the same purpose.
    """
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = [str(p) for p in err["loc"]]
    field_name = ".".join(loc) if loc else "(whole table)"
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = model
        for part in loc[:-1]:
            if names and part in names:
                owner = names[part]
        allowed = f"; allowed: {_allowed_keys(owner)}" if owner is not None else ""
        msg = f"unknown key {loc[-1]!r}{allowed}"
        if len(loc) > 1:
            msg = f"{'.'.join(loc[:-1])}: {msg}"
    elif kind == "missing" or (err.get("input", "") is None and kind.endswith("_type")):
        msg = f"{field_name}: missing (a value is required)"
    else:
        text = err["msg"]
        if text.startswith("Value error, "):
            text = text[len("Value error, ") :]
        got = err.get("input")
        shown = f", got {got!r}" if not isinstance(got, (dict, list)) and kind != "value_error" else ""
        msg = f"{field_name}: {_plain(text)}{shown}" if loc else f"{text}{shown}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return ConfigError(f"{where}: {msg}{more}")


def _plain(text: str) -> str:
    """Pydantic's wording, to read on after a field name."""
    text = text[:1].lower() + text[1:] if text else text
    return text.replace("input should be", "must be", 1)


def read_toml(path: Path | str) -> dict:
    """Read a TOML file, turning every failure into a one-line :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark, as some editors write, is dropped
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def parse_month(text: str, where: str = "date") -> date:
    """Parse ``YYYY-MM`` (or ``YYYY-MM-DD``) into a date, as a ConfigError if malformed."""
    parts = str(text).split("-")
    try:
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1)
        if len(parts) == 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        pass
    raise ConfigError(f"{where}: {text!r} is not a date of the form YYYY-MM")
