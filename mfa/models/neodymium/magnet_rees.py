"""The element model as a framework model, ``magnet_rees`` (``mfa --model magnet_rees run``).

It reads the Nd model's parameters and scenarios (``params/``, ``params/scenarios``) and the
element data in ``<params>/elements`` (:mod:`.element_data`), and runs
:func:`.elements.simulate_elements`. A scenario name is first looked up among the element
scenarios (``<params>/elements/scenarios``: ``hre-free-magnets``, ``ionic-clay-shock``,
``net-zero``, ``high-recycling``; or a TOML path with an ``nd_scenario`` key), then among the Nd
scenarios (:meth:`MagnetReesModel.load_scenario`, used by ``mfa --model magnet_rees run`` and
``mc``). An element scenario applies its Nd scenario to the parameters and records its own file
in ``values.attrs["element_scenario"]``, which :meth:`MagnetReesModel.simulate` reads.
:meth:`MagnetReesModel.extend_parameters` adds the Pr, Dy and Tb content of the magnets with
their ranges (``composition.csv`` ``low``/``high``), and the GBD share and diffusion-source
utilisation of Dy and Tb (``processing.csv``), to the parameters, so that ``mfa --model
magnet_rees mc`` (and ``sensitivity``) sample them with the Nd model's uncertain parameters. ``binding_element`` is stored as CF flags (integer codes, ``flag_meanings``) so
that Monte Carlo ensembles (``mfa --model magnet_rees mc``) and netCDF files hold numbers; the
ensemble's world totals of the headline variables are magnet-REE totals (summed over elements).
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mfa.core.errors import ScenarioError
from mfa.core.system import ProcessSystem
from mfa.data.parameter_set import ParameterSet
from mfa.data.scenario_files import Scenario
from mfa.models.neodymium.element_data import ElementData
from mfa.models.neodymium.element_processing import PROCESSING_FACTORS
from mfa.models.neodymium.elements import COMPOSITION_FACTORS, interpolate_composition

__all__ = ["MODEL", "ElementRunScenario", "MagnetReesModel", "composition_parameters"]


@dataclass(frozen=True)
class ElementRunScenario(Scenario):
    """An element scenario as a framework scenario: its Nd scenario is the base (applied to the
    parameters), its own file adds no parameter overrides, and ``value_attrs`` (the path of the
    element scenario file, ``element_scenario``) go into ``values.attrs`` for
    :meth:`MagnetReesModel.simulate` (:func:`mfa.analysis.run.prepare`)."""

    value_attrs: dict[str, str] = field(default_factory=dict)


class MagnetReesModel:
    """Nd, Pr, Dy and Tb through the Nd chain, and co-production at the mine."""

    name = "magnet_rees"
    material = "Magnet REE"
    #: Result variables summarised by default (by element).
    headline: tuple[str, ...] = ("primary_demand", "total_demand", "secondary_supply",
                                 "ore_mined_treo", "flow_coproduct_surplus")
    #: Result variables a Monte Carlo ensemble keeps by default (``mfa --model magnet_rees mc``;
    #: ``--variables all`` keeps all): the headline ones. All variables make the ensemble 4.2x
    #: the Nd model's per sample (19 kfloat), which puts 10,000 samples over the 2 GiB and 60 s
    #: targets (benchmarks/bench_elements.py).
    mc_variables: tuple[str, ...] = headline
    #: Samples per Monte Carlo task by default: one chunk of the element model holds four
    #: elements (about 4x the Nd model's memory per sample); with the default two workers (two
    #: chunks alive) 200 samples peak at about 1.3 GiB (benchmarks/bench_elements.py).
    mc_chunk: int = 200

    def __init__(self, elements_dir: str | Path | None = None) -> None:
        self._elements_dir = elements_dir

    @property
    def default_params(self) -> Path:
        """The packaged default data (the Nd model's; element data in its ``elements/``)."""
        from mfa.data.params import default_params_dir

        return Path(default_params_dir())

    def system(self, extra_dims: tuple[str, ...] = ()) -> ProcessSystem:
        """The Nd process system with an ``element`` dim (balanced element by element) and the
        diffusion-source flows (:func:`.element_processing.element_process_system`)."""
        from mfa.models.neodymium.element_processing import element_process_system

        return element_process_system(tuple(dict.fromkeys(("element", *extra_dims))))

    def _directory(self, params_dir: str | Path | None) -> Path:
        """The element data directory: the model's own, else ``<params_dir>/elements``."""
        if self._elements_dir is not None:
            return Path(self._elements_dir)
        return Path(params_dir if params_dir is not None else self.default_params) / "elements"

    def load_scenario(self, scenario: str | Path, params_dir: str | Path | None = None
                      ) -> Scenario:
        """An element scenario (a name in ``<params>/elements/scenarios`` or a TOML path with
        ``nd_scenario``) as an :class:`ElementRunScenario`, else the Nd scenario ``scenario``.

        Raises
        ------
        ScenarioError
            An unknown name (listing the element and the Nd scenarios), or a mistake in the
            element scenario or its Nd scenario (naming the file).
        """
        from mfa.data.scenarios import load_scenario
        from mfa.models.neodymium.element_data import load_element_scenario

        directory = self._directory(params_dir)
        path = _element_scenario_path(scenario, directory)
        if path is None:
            try:
                return load_scenario(scenario, params_dir=params_dir)
            except ScenarioError as exc:
                if str(scenario).endswith(".toml") or "unknown scenario" not in str(exc):
                    raise
                known = sorted(p.stem for p in (directory / "scenarios").glob("*.toml"))
                raise ScenarioError(f"{exc}; element scenarios (model {self.name}): "
                                    f"{', '.join(known) or 'none'}") from None
        element = load_element_scenario(path, directory)
        nd = load_scenario(element.nd_scenario, params_dir=params_dir)
        return ElementRunScenario(
            name=element.name, description=element.description, base=element.nd_scenario,
            overrides=[], sources=[], path=path,
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(), base_scenario=nd,
            value_attrs={"element_scenario": str(path.resolve())})

    def extend_parameters(self, params: ParameterSet) -> ParameterSet:
        """``params`` with the Pr, Dy and Tb content of the magnets and their ranges
        (:func:`composition_parameters`): Monte Carlo and Sobol sample them."""
        from mfa.models.neodymium.element_data import load_element_data

        params_dir = params.values.attrs.get("params_dir", params.path)
        return composition_parameters(params, load_element_data(self._directory(params_dir)))

    def simulate(self, values: xr.Dataset, *, check: bool = True, rtol: float = 1e-9
                 ) -> xr.Dataset:
        """:func:`.elements.simulate_elements` on ``values`` with the element data and the
        element scenario named in ``values.attrs["element_scenario"]`` (a file; none: the
        data as they are)."""
        from mfa.models.neodymium.element_data import load_element_scenario
        from mfa.models.neodymium.elements import simulate_elements

        directory = self._directory(values.attrs.get("params_dir"))
        element_file = values.attrs.get("element_scenario")
        scenario = load_element_scenario(element_file, directory) if element_file else None
        ds = simulate_elements(values, _element_data(directory), scenario, check=check,
                               rtol=rtol)
        ds["binding_element"] = _as_flags(ds["binding_element"], ds["element"].values)
        ds.attrs.update(model=self.name, material=self.material)
        return ds

    @property
    def figures(self) -> Any:
        """The element figures (:mod:`.element_figures`, element selector; imports
        matplotlib), for ``mfa --model magnet_rees plot``."""
        from mfa.models.neodymium import element_figures

        return element_figures

    def summary_rows(self, ds: xr.Dataset, reference: xr.Dataset | None = None
                     ) -> list[tuple[str, xr.DataArray, str]]:
        """World primary demand and demand by element, the ore mined and the binding
        surplus at the mine and China's share of mining by element, for ``mfa run``
        (``reference`` is not used); format ``"t"`` or ``"%"``."""
        rows: list[tuple[str, xr.DataArray, str]] = []
        for e in ds["element"].values:
            rows.append((f"{e} primary demand [t/yr]",
                         ds["primary_demand"].sel(element=e).sum("region"), "t"))
        for e in ds["element"].values:
            rows.append((f"{e} demand [t/yr]", ds["total_demand"].sel(element=e), "t"))
        rows.append(("Ore mined, TREO [t/yr]", ds["ore_mined_treo"], "t"))
        for e in ("La", "Ce", "Nd", "Pr"):
            rows.append((f"{e} surplus at the mine [t/yr]",
                         ds["flow_coproduct_surplus"].sel(mined_element=e), "t"))
        share = ds["mine_production_share"].sel(region="China")
        for e in ("Nd", "Dy", "Tb"):
            rows.append((f"China's share of {e} mined [%]", 100 * share.sel(mined_element=e),
                         "%"))
        return rows

    def __repr__(self) -> str:
        return "<model 'magnet_rees' (Nd, Pr, Dy, Tb)>"


def composition_parameters(params: ParameterSet, data: ElementData) -> ParameterSet:
    """``params`` (a :class:`~mfa.data.params.ParameterSet`) with the Pr, Dy and Tb content of
    the magnets (:data:`.elements.COMPOSITION_FACTORS`, (application, time) [1]) as parameters with the
    ranges of ``composition.csv`` (``low``/``high``), so that a Monte Carlo ensemble or a Sobol
    analysis samples them: one quantile per element and sample, applied to every application
    and year (fully correlated over them; the elements independent: an assumption). Nd's
    content stays that of the Nd model (its own parameters carry its range). The processing
    factors (:data:`.element_processing.PROCESSING_FACTORS`) are added the same way."""
    time = params.values["time"].values
    tables = {k: interpolate_composition(t, time) for k, t in (("values", data.composition),
                                                     ("low", data.composition_low),
                                                     ("high", data.composition_high))}
    sources = sorted(data.sources.get("composition.csv", set()))
    new = {"values": params.values.copy(), "low": params.low.copy(),
           "high": params.high.copy()}
    registry = dict(params.registry)
    _add_processing_parameters(new, registry, data, time)
    for element, var in COMPOSITION_FACTORS.items():
        text = f"{element} mass fraction of the NdFeB magnets of each application"
        attrs = {"units": "1", "description": text, "long_name": text,
                 "source": ", ".join(sources), "role": "model"}
        for key, ds in new.items():
            ds[var] = tables[key].sel(element=element, drop=True).assign_attrs(attrs)
        registry[var] = {"description": text, "dims": ["application", "time"], "unit": "1",
                         "min": 0.0, "max": 1.0, "sum_to_one_over": None, "role": "model"}
    return dataclasses.replace(params, registry=registry, **new)


def _add_processing_parameters(new: dict[str, xr.Dataset], registry: dict, data: ElementData,
                               time: np.ndarray) -> None:
    """Add the :data:`.element_processing.PROCESSING_FACTORS` (GBD share of Dy and Tb by
    application and time, their diffusion utilisation by time) with the ranges of
    ``processing.csv`` to the values, low, high (``new``) and ``registry``, so that Monte
    Carlo and Sobol sample them (one quantile per parameter and sample, the same for every
    application and year: an assumption)."""
    gbd = {k: interpolate_composition(t, time) for k, t in (
        ("values", data.gbd_share), ("low", data.gbd_share_low), ("high", data.gbd_share_high))}
    util = data.diffusion_utilisation_range
    sources = ", ".join(sorted(data.sources.get("processing.csv", set())))
    for var, (what, element) in PROCESSING_FACTORS.items():
        text = (f"Share of the {element} magnet content applied by grain-boundary diffusion"
                if what == "gbd_share" else
                f"Share of the {element} diffusion source that ends in the magnet")
        dims = ["application", "time"] if what == "gbd_share" else ["time"]
        attrs = {"units": "1", "description": text, "long_name": text, "source": sources,
                 "role": "model"}
        for key, ds in new.items():
            if what == "gbd_share":
                da = gbd[key].sel(element=element, drop=True)
            else:
                bound = {"values": "value"}.get(key, key)
                level = float(util.sel(bound=bound, element=element))
                da = xr.DataArray(np.full(len(time), level), dims="time", coords={"time": time})
            ds[var] = da.assign_attrs(attrs)
        registry[var] = {"description": text, "dims": dims, "unit": "1", "min": 0.0,
                         "max": 1.0, "sum_to_one_over": None, "role": "model"}


#: Element data read by :meth:`MagnetReesModel.simulate`, by directory and file states.
_DATA_CACHE: dict[tuple[str, tuple[tuple[int, int] | None, ...]], ElementData] = {}
_DATA_FILES = ("elements.csv", "composition.csv", "deposits.csv", "mines.csv", "processing.csv",
               "../sources.csv")


def _element_data(directory: Path) -> ElementData:
    """:func:`.element_data.load_element_data` of ``directory``, read again only when one of
    its files (or ``sources.csv``) changed size or modification time: a Monte Carlo ensemble
    runs the model once per chunk (the read and its checks are ~5 % of a 100-sample chunk)."""
    from mfa.models.neodymium.element_data import load_element_data

    states = []
    for name in _DATA_FILES:
        try:
            st = (directory / name).stat()
        except OSError:
            states.append(None)
        else:
            states.append((st.st_size, st.st_mtime_ns))
    key = (str(directory.resolve()), tuple(states))
    data = _DATA_CACHE.get(key)
    if data is None:
        data = load_element_data(directory)  # raises on a missing or bad file: not cached
        if len(_DATA_CACHE) >= 8:
            _DATA_CACHE.clear()
        _DATA_CACHE[key] = data
    return data


def _element_scenario_path(scenario: str | Path, directory: Path) -> Path | None:
    """The element scenario file ``scenario`` names, or None if it is not an element scenario
    (a TOML path without ``nd_scenario`` is an Nd scenario; an unreadable one is left to the
    Nd loader, which says what is wrong)."""
    text = str(scenario)
    if text.endswith(".toml"):
        path = Path(text)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        return path if "nd_scenario" in doc else None
    named = directory / "scenarios" / f"{text}.toml"
    return named if named.is_file() else None


def _as_flags(labels: xr.DataArray, elements: Sequence[str] | np.ndarray) -> xr.DataArray:
    """Element labels as CF flags: integer codes 1..n with ``flag_values``/``flag_meanings``
    (0: nothing mined), so that ensembles and netCDF files hold numbers."""
    names = [str(e) for e in elements]
    codes = xr.zeros_like(labels, dtype="int64")
    for i, name in enumerate(names, start=1):
        codes = codes.where(labels != name, i)
    return codes.assign_attrs(labels.attrs, units="1", flag_values=list(range(len(names) + 1)),
                              flag_meanings=" ".join(["none", *names]))


#: The model object found by ``mfa.models.get("magnet_rees")`` (entry point ``mfa.models``).
MODEL = MagnetReesModel()
