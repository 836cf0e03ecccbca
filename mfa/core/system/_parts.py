"""The parts of a process system: flows, stocks, result names, and small array helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfa.core.errors import MfaError

# Dataset variable: residual per (time, process[, region]) [t/yr].
RESIDUAL = "mass_balance_residual"
# Dataset variable: residual per (time, process), summed over regions [t/yr].
RESIDUAL_TOTAL = "mass_balance_residual_total"
# Dataset variable: process throughput per (time, process[, region]) [t/yr].
THROUGHPUT = "process_throughput"
# Dataset variable: process throughput per (time, process), summed over regions [t/yr].
THROUGHPUT_TOTAL = "process_throughput_total"

FLOW_UNIT = "t/yr"
STOCK_UNIT = "t"
_RESERVED_NAMES = frozenset({RESIDUAL, RESIDUAL_TOTAL, THROUGHPUT, THROUGHPUT_TOTAL})
_RESERVED_DIMS = frozenset({"process"})


def _check_dims(kind: str, name: str, dims: Any) -> tuple[str, ...]:
    if isinstance(dims, str):
        dims = (dims,)
    dims = tuple(dims)
    if not all(isinstance(d, str) and d for d in dims):
        raise MfaError(f"{kind} {name!r}: dims must be non-empty strings, got {dims!r}")
    if "time" not in dims:
        raise MfaError(f"{kind} {name!r}: dims {dims!r} must include 'time'")
    if len(set(dims)) != len(dims):
        raise MfaError(f"{kind} {name!r}: repeated dim in {dims!r}")
    bad = _RESERVED_DIMS.intersection(dims)
    if bad:
        raise MfaError(f"{kind} {name!r}: dim name {sorted(bad)[0]!r} is reserved for results")
    return dims


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise MfaError(f"{kind}: name must be a non-empty string, got {name!r}")
    if "/" in name:
        raise MfaError(f"{kind} {name!r}: name must not contain '/' (netCDF variable names)")


@dataclass(frozen=True)
class Flow:
    """A flow of material from one process to another.

    Parameters
    ----------
    name : str
        Variable name of the flow in values and results (e.g. ``"flow_mined"``).
    source, target : str
        Names of the processes the flow leaves and enters.
    dims : tuple of str
        Dims of the flow values; must include ``"time"``, e.g. ``("time", "region")``.
        Values are in a mass per time unit and are stored in ``t/yr``.
    signed : bool
        Whether values may be negative, meaning material moving from ``target`` to ``source``.
        Only for net flows, e.g. a region's net export to a trade pool (negative for a net
        importer). Default ``False``: :meth:`ProcessSystem.check_balance` rejects negative
        values, since a negative flow is almost always a wrong number (a yield above 1, a
        unit read wrongly).
    """

    name: str
    source: str
    target: str
    dims: tuple[str, ...] = ("time",)
    signed: bool = False

    def __post_init__(self) -> None:
        _check_name("flow", self.name)
        if not isinstance(self.signed, (bool, np.bool_)):
            raise MfaError(f"flow {self.name!r}: signed must be True or False, got {self.signed!r}")
        for end in (self.source, self.target):
            if not isinstance(end, str) or not end:
                raise MfaError(f"flow {self.name!r}: source and target must be process names")
        if self.source == self.target:
            raise MfaError(f"flow {self.name!r}: source and target are both {self.source!r}")
        object.__setattr__(self, "dims", _check_dims("flow", self.name, self.dims))


@dataclass(frozen=True)
class Stock:
    """A stock of material held in a process.

    Parameters
    ----------
    name : str
        Variable name of the stock in values and results (e.g. ``"in_use_stock"``).
    process : str
        Process that holds the stock.
    dims : tuple of str
        Dims of the stock values; must include ``"time"``. Values are a mass at the end of
        each year, stored in ``t``.
    """

    name: str
    process: str
    dims: tuple[str, ...] = ("time",)

    def __post_init__(self) -> None:
        _check_name("stock", self.name)
        if not isinstance(self.process, str) or not self.process:
            raise MfaError(f"stock {self.name!r}: process must be a process name")
        object.__setattr__(self, "dims", _check_dims("stock", self.name, self.dims))


def _duplicates(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return dup


def _reduce(values: np.ndarray, dims: Sequence[str], *, keep: Sequence[str]) -> np.ndarray:
    """Sum all axes except those in ``keep`` (present in ``dims``), returned in ``keep`` order."""
    kept = [d for d in keep if d in dims]
    order = [dims.index(d) for d in kept] + [i for i, d in enumerate(dims) if d not in kept]
    arr = np.transpose(np.asarray(values, dtype=float), order)
    if len(kept) == len(dims):  # nothing to sum: a view, not a copy
        return arr
    shape = arr.shape[: len(kept)]
    return arr.reshape((*shape, -1)).sum(axis=-1)


def _nanmax_abs(*arrays: np.ndarray) -> float:
    """Largest ``|value|`` over ``arrays``, NaN ignored (0.0 when there is none)."""
    best = 0.0
    for a in arrays:
        if a.size:
            m = float(np.fmax.reduce(np.abs(a), axis=None))  # NaN only when all are NaN
            best = m if m > best else best
    return best


def _label(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _short(labels: np.ndarray | None, size: int) -> str:
    if labels is None:
        return f"(size {size}, no labels)"
    items = [_label(v) for v in labels[:4]]
    more = ", ..." if size > 4 else ""
    return f"[{', '.join(items)}{more}] (size {size})"
