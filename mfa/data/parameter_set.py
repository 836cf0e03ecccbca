"""The :class:`ParameterSet`: validated parameters on the model years, in canonical units."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.units import UnitError, to_canonical, unit_string
from mfa.data.checks import applicable_mask, check_parameter_values
from mfa.data.problems import MAX_MESSAGES, fmt_list, suggest

__all__ = ["ParameterSet"]


@dataclass(frozen=True)
class ParameterSet:
    """Validated model parameters on the model years, in canonical units.

    Attributes
    ----------
    values : xarray.Dataset
        One variable per parameter with the dims declared in the registry (in that order),
        interpolated onto the model years (coordinate ``time``), full coordinates on every dim
        declared in ``model.toml``; NaN where the parameter does not apply (labels outside its
        registry ``labels``). ``attrs["units"]`` is the canonical unit (e.g. ``"t / yr"``), plus
        ``description`` and ``source`` (the source keys used).
    low, high : xarray.Dataset
        Lower and upper ends of the range, same shapes and units; equal to ``values`` where no
        range was given.
    table : pandas.DataFrame
        The validated long table: the data-file columns with ``value``/``low``/``high`` converted
        to the canonical ``unit``, plus ``file`` and ``line``.
    sources : dict of str to dict
        The bibliography from ``sources.csv``, by key.
    registry : dict of str to dict
        The registry entries with defaults filled in, by parameter name; ``labels`` maps dims
        to the labels the parameter applies to (``products`` repeats ``labels["product"]``
        for older code).
    files : dict of str to str
        File name (relative to the params directory) -> sha256 of every file read.
    coords : dict of str to list
        ``time`` (int years), then the labels of every dim declared in ``model.toml``
        (declared order).
    path : pathlib.Path or None
        The parameter directory read (scenario names are looked up in ``path / "scenarios"``),
        or the parameter workbook (``.xlsx``; scenarios in its ``scenario NAME`` sheets).
    scenario : str or None
        Name of the scenario applied by :func:`mfa.data.scenarios.apply_scenario` (None: defaults).
    scenario_files : dict of str to str
        Scenario file name -> sha256 for the scenario and its bases.
    model_name : str or None
        ``model.toml`` ``[model] name``: the model the data are for (None if not given).
    """

    values: xr.Dataset
    low: xr.Dataset
    high: xr.Dataset
    table: pd.DataFrame
    sources: dict[str, dict]
    registry: dict[str, dict]
    files: dict[str, str]
    coords: dict[str, list]
    path: Path | None = None
    scenario: str | None = None
    scenario_files: dict[str, str] = field(default_factory=dict)
    model_name: str | None = None

    # -- convenience -----------------------------------------------------------------------
    @property
    def dims(self) -> tuple[str, ...]:
        """The dims declared in ``model.toml`` (``time`` not included), in declared order."""
        return tuple(d for d in self.coords if d != "time")

    @property
    def names(self) -> list[str]:
        """Parameter names in registry order."""
        return list(self.registry)

    def __getitem__(self, name: str) -> xr.DataArray:
        """The values of parameter ``name`` (canonical units in ``attrs["units"]``)."""
        self._entry(name)
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.registry

    def unit(self, name: str) -> str:
        """Canonical unit of parameter ``name`` as written in ``attrs["units"]``."""
        return unit_string(self._entry(name)["unit"])

    def _entry(self, name: str) -> dict:
        try:
            return self.registry[name]
        except KeyError:
            raise ParameterError(
                f"unknown parameter {name!r}{suggest(name, list(self.registry))}; "
                f"known parameters: {fmt_list(self.registry)}"
            ) from None

    # -- replacing values ------------------------------------------------------------------
    def with_values(
        self,
        name: str,
        new_values: xr.DataArray,
        *,
        low: xr.DataArray | None = None,
        high: xr.DataArray | None = None,
        validate: bool = True,
    ) -> ParameterSet:
        """Return a copy with the values (and optionally the range) of one parameter replaced.

        Used by scenarios and Monte Carlo sampling.

        Parameters
        ----------
        name : str
            Parameter name (must be in the registry).
        new_values : xarray.DataArray
            New values with the parameter's dims (any order) and the same labels; an extra
            ``sample`` dim is allowed. Units from a pint-backed array or ``attrs["units"]`` are
            converted to the canonical unit; an array without units is taken to be in the
            canonical unit already (``ParameterSet.unit(name)``).
        low, high : xarray.DataArray, optional
            New range, same rules. If not given the range is kept as it is.
        validate : bool
            Check bounds and ``sum_to_one_over`` of the new values, and ``low <= value <= high``
            where a new ``low``/``high`` is given (default True). Values outside the kept range
            are allowed: Monte Carlo samples may fall outside ``[low, high]``.

        Returns
        -------
        ParameterSet
            A new set; ``table`` (the file data) is unchanged.

        Raises
        ------
        ParameterError
            Unknown name, wrong dims, labels or units, or values that fail the checks.
        """
        entry = self._entry(name)
        vals = self._conform(name, entry, new_values, "new_values")
        lo = self._conform(name, entry, low, "low") if low is not None else self.low[name]
        hi = self._conform(name, entry, high, "high") if high is not None else self.high[name]
        if validate:
            # the range is checked against the new values only where a new range is given
            problems = check_parameter_values(
                name, entry, vals, lo if low is not None else None, hi if high is not None else None
            )
            if problems:
                raise ParameterError(
                    f"with_values({name!r}): " + "; ".join(problems[:MAX_MESSAGES])
                )
        return self._replace(name, vals, lo, hi)

    def _conform(self, name: str, entry: dict, da: xr.DataArray, what: str) -> xr.DataArray:
        """Check dims/labels/units of a replacement array and bring it into canonical form."""
        if not isinstance(da, xr.DataArray):
            raise ParameterError(
                f"with_values({name!r}): {what} must be an xarray.DataArray, got "
                f"{type(da).__name__}"
            )
        dims = list(entry["dims"])
        extra = [d for d in da.dims if d not in dims]
        missing = [d for d in dims if d not in da.dims]
        if missing or any(d != "sample" for d in extra):
            raise ParameterError(
                f"with_values({name!r}): {what} has dims {tuple(da.dims)}, expected "
                f"{tuple(dims)} (plus optionally 'sample')"
            )
        has_units = "units" in da.attrs or hasattr(da.data, "units")
        if has_units:
            try:
                da = to_canonical(da, entry["unit"], name=f"{name} ({what})")
            except UnitError as exc:
                raise ParameterError(f"with_values({name!r}): {exc}") from None
        else:
            da = da.astype(float)
        for d in dims:
            want = self.coords[d]
            if d in da.coords:
                got = [v.item() if hasattr(v, "item") else v for v in da[d].values]
                if list(got) != list(want):
                    if sorted(map(str, got)) != sorted(map(str, want)):
                        raise ParameterError(
                            f"with_values({name!r}): {what} has {d} labels {got}, "
                            f"expected {want}"
                        )
                    da = da.reindex({d: want})
            elif da.sizes[d] != len(want):
                raise ParameterError(
                    f"with_values({name!r}): {what} has {da.sizes[d]} {d} entries, "
                    f"expected {len(want)}"
                )
            else:
                da = da.assign_coords({d: want})
        da = da.transpose(*dims, ...)
        mask = applicable_mask(entry, self.coords, da)
        if mask is not None:
            da = da.where(mask)
        old = self.values[name]
        da = da.copy()
        da.attrs = dict(old.attrs)
        da.name = name
        return da

    def _replace(
        self, name: str, values: xr.DataArray, low: xr.DataArray, high: xr.DataArray, **changes
    ) -> ParameterSet:
        """Replace one parameter without any checks (internal)."""
        attrs = dict(self.values[name].attrs)
        values = values.copy()
        low = low.copy()
        high = high.copy()
        for da in (values, low, high):
            da.attrs = dict(attrs)
            da.name = name
        return dataclasses.replace(
            self,
            values=self.values.assign({name: values}),
            low=self.low.assign({name: low}),
            high=self.high.assign({name: high}),
            **changes,
        )

    # -- documentation ---------------------------------------------------------------------
    def parameter_table(self) -> pd.DataFrame:
        """One row per parameter, for the documentation.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter, description, dims, unit, min, max, n_rows, sources, role,
            interpolation``: ``min``/``max`` summarise the values on the model years (canonical
            unit), ``n_rows`` counts the data rows, ``sources`` the source keys used.
        """
        rows = []
        counts = self.table.groupby("parameter").size() if len(self.table) else pd.Series()
        srcs = (
            self.table.groupby("parameter")["source"].agg(lambda s: ", ".join(sorted(set(s))))
            if len(self.table)
            else pd.Series()
        )
        for name, entry in self.registry.items():
            data = np.asarray(self.values[name].values, dtype=float)
            finite = data[np.isfinite(data)]
            rows.append(
                {
                    "parameter": name,
                    "description": entry["description"],
                    "dims": ", ".join(entry["dims"]),
                    "unit": unit_string(entry["unit"]),
                    "min": float(finite.min()) if finite.size else math.nan,
                    "max": float(finite.max()) if finite.size else math.nan,
                    "n_rows": int(counts.get(name, 0)),
                    "sources": srcs.get(name, ""),
                    "role": entry["role"],
                    "interpolation": entry["interpolation"] if "time" in entry["dims"] else "",
                }
            )
        return pd.DataFrame(rows)

