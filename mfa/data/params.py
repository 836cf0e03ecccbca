"""Read, validate and interpolate a parameter directory (``params/`` for the default model).

A parameter directory holds

* ``model.toml`` -- the model the data are for (``[model] name``, optional), the model years
  (``[time] start, end``), the labels of every dimension (``[dimensions]``: any dims with any
  names, e.g. ``region`` and ``sector``) and the units the data need beyond the package's own
  (``[units] definitions``, optional; see :mod:`mfa.data.model_file`);
* ``registry.toml`` -- one ``[parameters.NAME]`` table per parameter: its dims, the labels it
  applies to (``labels = {dim = [...]}``), canonical unit, bounds, interpolation rule and so on
  (:mod:`mfa.data.registry`);
* ``sources.csv`` -- the bibliography (``key,citation,url,licence,tag,note``);
* any number of data files ``*.csv`` in long format, one value per row, with the header
  ``parameter,<dims>,year,value,unit,low,high,source,note`` (:mod:`mfa.data.tables`).

:func:`load_parameters` reads all of it, checks every row (labels, units, numbers, bounds, sources,
duplicates, gaps, missing combinations, sums) and returns a :class:`ParameterSet`: one
``xarray`` variable per parameter in its canonical unit, interpolated onto the model years.
Every user mistake raises one :class:`~mfa.core.errors.ParameterError` that names the file, the line
(the header is line 1; comment lines count) or the registry key, and what was expected.

Rules (see also ``params/README.md``)
-------------------------------------
Wildcards
    An empty dim cell (or an absent dim column), for a parameter that has that dim, means "all
    labels" (all labels in the parameter's registry ``labels`` for that dim, if given). An empty
    ``year`` means "all years" (a constant).
Precedence
    Each row covers a set of cells (one label per dim). For every cell and year the row that names
    the most dims wins (a specific row overrides a wildcard row for the same year); two rows of
    equal specificity for the same cell and year are an error (duplicate or ambiguous rows).
    A cell's dated points are merged year by year this way. If a cell has both a constant
    (empty-year) row and dated rows, the more specific of the two kinds wins for the whole cell;
    equal specificity is an error.
Interpolation
    Between given years: ``"linear"`` or ``"step"`` (the last given value holds until the next
    given year). Before the first given year: ``before = "constant" | "zero" | "error"``; after
    the last: ``after = "constant" | "error"``. ``max_gap`` limits the distance between given
    years. ``low``/``high`` are interpolated the same way; where a row gives no range they equal
    the value.
Years
    A data year outside the model years is an error (a typo such as 2102 for 2012), unless the
    registry's ``allow_years = [first, last]`` admits it for that parameter.
Bounds
    ``min``/``max`` are hard limits; ``plausible_min``/``plausible_max`` are order-of-magnitude
    limits against typos and unit mix-ups (reasons in ``params/README.md``). Both are checked on
    every row and again on the values after interpolation or a scenario.
Files
    Only regular files are read (a FIFO or directory named ``x.csv`` is refused, never waited
    on); UTF-8 with or without a byte-order mark; data files are ``*.csv`` in any letter case.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.units import unit_string
from mfa.data.build import Provenance, build_parameter
from mfa.data.checks import (
    SUM_TOLERANCE,
    ambiguous_unit_message,
    check_parameter_values,
    check_values,
    implausible_message,
    year_outside_message,
    year_span,
)
from mfa.data.files import (
    decode_toml,
    default_params_dir,
    is_workbook,
    list_data_files,
    read_input_file,
)
from mfa.data.interpolate import interpolate_points
from mfa.data.model_file import MAX_MODEL_YEARS, YEAR_RANGE, ModelFile, read_model
from mfa.data.parameter_set import ParameterSet
from mfa.data.problems import MAX_MESSAGES, fmt_list
from mfa.data.registry import SOURCE_COLUMNS, SOURCE_TAGS, read_registry, read_sources
from mfa.data.tables import DATA_COLUMNS, Rows, check_rows, data_columns, read_rows, rows_table

__all__ = [
    "DATA_COLUMNS",
    "MAX_MESSAGES",
    "MAX_MODEL_YEARS",
    "SOURCE_COLUMNS",
    "SOURCE_TAGS",
    "SUM_TOLERANCE",
    "YEAR_RANGE",
    "ParameterSet",
    "ambiguous_unit_message",
    "check_parameter_values",
    "data_columns",
    "decode_toml",
    "default_params_dir",
    "implausible_message",
    "interpolate_points",
    "is_workbook",
    "load_parameters",
    "read_input_file",
    "validated_set",
    "year_outside_message",
    "year_span",
]


def load_parameters(path: str | Path | None = None) -> ParameterSet:
    """Read and validate a parameter directory, or a parameter workbook (``.xlsx``).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Directory with ``model.toml``, ``registry.toml``, ``sources.csv`` and data ``*.csv``
        files, or an Excel workbook written by :func:`mfa.data.excel.export.parameter_workbook`
        (``mfa params export``) and edited. ``None`` (default) reads the packaged default data
        (:func:`default_params_dir`).

    Returns
    -------
    ParameterSet
        Values in canonical units (``registry.toml`` ``unit``), on the model years.

    Raises
    ------
    ParameterError
        For any problem in the files; the message names the file, the line (header = line 1,
        comment lines counted) or registry key, and what was expected (in a workbook: the
        sheet, the Excel row and the column). Up to ten problems are listed at once.
    """
    root = Path(path) if path is not None else default_params_dir()
    if is_workbook(root):
        from mfa.data.excel import read_parameter_workbook

        return read_parameter_workbook(root)
    data_files = list_data_files(root)
    files: dict[str, str] = {}
    model = read_model(root / "model.toml", files, root)  # defines its units first
    registry = read_registry(root / "registry.toml", model, files, root)
    sources = read_sources(root / "sources.csv", files, root)
    if not data_files:
        raise ParameterError(f"{root}: no data files (*.csv other than sources.csv)")
    rows = read_rows(data_files, model.dims, files, root)
    return validated_set(rows, model, registry, sources, files, root, data_files,
                         f"{root / 'registry.toml'}")


def validated_set(rows: Rows, model: ModelFile, registry: dict[str, dict],
                  sources: dict[str, dict], files: dict[str, str], root: Path,
                  data_files: list[Path], registry_where: str) -> ParameterSet:
    """Check the data rows read from the files (or sheets) ``data_files`` and build the set.

    ``registry_where`` names the registry in messages (a file, or a workbook's sheet).
    """
    check_rows(rows, registry, model, sources)
    rows.problems.raise_if_any()
    _check_present(rows, registry, registry_where, data_files)
    datasets, provenance = _build_all(rows, registry, model, root)
    _check_after_interpolation(rows, registry, model, datasets[0], datasets, provenance)
    return ParameterSet(
        values=datasets[0],
        low=datasets[1],
        high=datasets[2],
        table=rows_table(rows, registry, model.dims, data_files),
        sources=sources,
        registry=registry,
        files=dict(sorted(files.items())),
        coords={k: list(v) for k, v in model.coords.items()},
        path=root,
        model_name=model.name,
    )


def _check_present(rows: Rows, registry: dict[str, dict], registry_where: str,
                   data_files: list[Path]) -> None:
    """Every registry parameter has data rows."""
    present = np.zeros(len(rows.names), dtype=bool)
    present[np.unique(rows.pidx)] = True
    for j in np.nonzero(~present)[0]:
        rows.problems.add(f"{registry_where}, [parameters.{rows.names[j]}]: no data rows "
                          f"for this parameter in any data file "
                          f"({fmt_list(p.name for p in data_files)})")
    rows.problems.raise_if_any()


def _build_all(rows: Rows, registry: dict[str, dict], model: ModelFile, root: Path
               ) -> tuple[list[xr.Dataset], dict[str, Provenance]]:
    """Value, low and high datasets of all parameters, and the provenance of their points."""
    names = rows.names
    order = np.argsort(rows.pidx, kind="stable")
    edges = np.searchsorted(rows.pidx[order], np.arange(len(names) + 1))
    variables: list[dict[str, xr.Variable]] = [{}, {}, {}]
    provenance: dict[str, Provenance] = {}
    for j, p in enumerate(names):
        idx = order[edges[j]:edges[j + 1]]
        entry = registry[p]
        built = build_parameter(p, entry, idx, rows, model.coords)
        if built is None:
            continue
        attrs = {
            "units": unit_string(entry["unit"]),
            "description": entry["description"],
            "long_name": entry["description"],
            "source": ", ".join(sorted(set(rows.cols["source"][idx]))),
            "role": entry["role"],
        }
        for k in range(3):
            built[k].attrs.update(attrs)
            variables[k][p] = built[k]
        provenance[p] = built[3]
    rows.problems.raise_if_any()
    coords = {"time": np.asarray(model.coords["time"], dtype=np.int64),
              **{d: np.asarray(model.coords[d], dtype=object) for d in model.dims}}
    attrs = {"params_dir": str(root)}
    return [xr.Dataset(v, coords=coords, attrs=attrs) for v in variables], provenance


def _check_after_interpolation(rows: Rows, registry: dict[str, dict], model: ModelFile,
                               values: xr.Dataset, datasets: list[xr.Dataset],
                               provenance: dict[str, Provenance]) -> None:
    """Bounds, ranges and sums of every parameter on the model years."""
    time = np.asarray(model.coords["time"], dtype=np.int64)
    span = f"{model.coords['time'][0]}-{model.coords['time'][-1]}"
    for p, entry in registry.items():
        rows_at = None
        if entry["sum_to_one_over"]:
            rows_at = provenance[p].rows_text(entry["sum_to_one_over"], rows, time)
        for msg in check_values(p, entry, values[p], datasets[1][p], datasets[2][p], rows_at):
            rows.problems.add(f"after interpolation onto the model years {span}: {msg}")
    rows.problems.raise_if_any()
