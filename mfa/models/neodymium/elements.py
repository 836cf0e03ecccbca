"""Nd, Pr, Dy and Tb together: the magnet rare-earth model, co-production and the balance problem.

One vectorised run of the Nd chain (:func:`mfa.models.neodymium.simulate`) with an ``element``
dim gives every flow and stock by element. The Nd model is linear in the Nd content of products
(``nd_share_in_magnet``, ``end_use_nd_share``, ``end_use_nd_direct``), and every other relation
works element by element, so each element's flows are those of Nd with these three terms scaled
by the element's content relative to Nd in the magnets of the application and year
(``params/elements/composition.csv``)::

    content_e[p, t] = nd_content[p, t] × w_e[a(p), t] / w_Nd[a(p), t]

with ``w`` the wt% in the magnets of application ``a(p)`` (linear between anchor years, held
outside them). Nd's factor is exactly 1: the Nd slice of an element run is the Nd model's result.
Processing by element (Dy/Tb separation, diffusion sources): :mod:`.element_processing`. Other
yields, lifetimes, collection and recycling are the same for every element (HPMS keeps the
composition), non-magnet uses carry Nd only, every stage takes Nd's regional shares (assumptions).

Co-production at the mine (:func:`coproduction`): each mine group ``m`` (``mines.csv``) brings a
fixed mix of elements (its deposit's distribution, % of TREO, converted to element mass with
the oxide factors). With the mines' shares ``s_m`` of world output, a tonne of TREO holds
``c_e = Σ_m s_m q_{m,e}`` t of element ``e``. Meeting the ore demand ``X_e`` of each element
alone needs ``R_e = X_e / c_e`` t TREO; the mines run at ``M = max_e R_e`` (the binding element,
Binnemans et al. 2013, the balance problem) and produce ``M c_e`` of every element; the surplus
``M c_e - X_e`` (La and Ce: all of it, no La/Ce demand is modelled) is stockpiled or unsold.
``X_e`` is the chain's ``primary_demand_ore`` (element in ore before mining and separation
losses, the same yields for every element), so ``M`` is TREO on that ore basis, larger than the
mine production USGS reports; the mines' shares and the ratios between elements do not depend
on the basis. Mine shares before 2018 and after 2024 are held at 2018 and 2024 (assumption).
"""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import xarray as xr

from mfa.analysis import indicators
from mfa.core.errors import MassBalanceError, ParameterError
from mfa.core.units import UnitError, parse_unit
from mfa.models.neodymium import element_processing as processing
from mfa.models.neodymium.element_data import (
    MAGNET_ELEMENTS,
    MINED_ELEMENTS,
    ElementData,
    ElementScenario,
)
from mfa.models.neodymium.structure import SecondaryExceedsDemandWarning

__all__ = ["COMPOSITION_FACTORS", "COPRODUCTION_FLOWS", "END_USE_APPLICATION", "GROUPS",
           "PRODUCT_APPLICATION", "composition_by_year", "content_ratio", "coproduction",
           "element_values", "interpolate_composition",
           "mine_contents", "oxide_factor", "oxide_factors", "run_elements", "simulate_elements",
           "to_oxide"]

#: Application of ``composition.csv`` whose magnets each model product holds (None: no magnet).
PRODUCT_APPLICATION: dict[str, str | None] = {
    "ev_bev": "ev_traction", "ev_phev": "ev_traction", "e_two_wheeler": "e_two_wheeler",
    "wind_onshore": "wind_pm_generator", "wind_offshore": "wind_pm_generator",
    "electronics": "electronics", "industrial_motors": "industrial_motors",
    "other_magnets": "other_magnets", "non_magnet": None,
}
#: Application of each bottom-up end use (:data:`.structure.END_USES`); None: not a magnet.
END_USE_APPLICATION: dict[str, str | None] = {
    "hdd": "electronics", "smartphone": "electronics", "consumer_electronics_nes": "electronics",
    "e_bike": "e_two_wheeler", "air_conditioner": "industrial_motors",
    "industrial_robot": "industrial_motors", "elevator": "industrial_motors",
    "industrial_nes": "industrial_motors", "hev": "hev_traction",
    "car_small_motors": "other_magnets", "car_nes": "other_magnets",
    "pc_other": "electronics", "other_magnet_uses": "other_magnets",
    "non_magnet_uses": None,
}
#: Element groups reported with the elements: NdPr (traded as NdPr oxide) and the four magnet
#: rare earths (IEA's "magnet rare earth elements").
GROUPS: dict[str, tuple[str, ...]] = {"NdPr": ("Nd", "Pr"), "Magnet REE": MAGNET_ELEMENTS}
#: Flows of the co-production at the mine, on the ``mined_element`` dim [t/yr, element mass].
COPRODUCTION_FLOWS: dict[str, str] = {
    "flow_coproduced": "Element in rare-earth ore mined (all elements a tonne of ore brings)",
    "flow_coproduct_to_chain": "Element in ore mined that the chain uses (its primary demand, "
                               "ore basis)",
    "flow_coproduct_surplus": "Element mined beyond the chain's demand: stockpiled or unsold "
                              "(La, Ce: all of it; no La/Ce demand is modelled)",
}


def oxide_factor(element: str, data: ElementData) -> float:
    """Oxide mass per element mass [1] of ``element``'s trade oxide ``RE_nO_m``:
    ``(n Ar(RE) + m Ar(O)) / (n Ar(RE))`` with the standard atomic weights of ``data``."""
    _formula, n, m = data.oxide[element]
    ar = data.atomic_weight[element]
    return (n * ar + m * data.atomic_weight["O"]) / (n * ar)


def oxide_factors(data: ElementData, elements: tuple[str, ...] = MINED_ELEMENTS,
                  dim: str = "element") -> xr.DataArray:
    """:func:`oxide_factor` of ``elements`` along ``dim`` [t oxide / t element]."""
    return xr.DataArray([oxide_factor(e, data) for e in elements], dims=dim,
                        coords={dim: list(elements)}, attrs={"units": "1"})


def to_oxide(da: xr.DataArray, data: ElementData) -> xr.DataArray:
    """Element mass (``element`` or ``mined_element`` dim) as mass of each trade oxide.

    ``da`` must carry a mass or mass-flow unit in ``attrs["units"]`` (kept: t or t/yr of
    oxide); ``attrs["basis"]`` becomes ``"<old basis>, as oxide"``. Convert the elements, then
    add groups (:func:`.element_indicators.with_groups`): group labels are an error.

    Raises
    ------
    mfa.core.units.UnitError
        ``da`` has no units or units that are not a mass or mass flow.
    ParameterError
        A label without an oxide (a group, or an unknown element).
    """
    unit = da.attrs.get("units")
    if unit is None:
        raise UnitError("to_oxide: the element masses have no units (attrs['units'])")
    dims = parse_unit(unit, "to_oxide").dimensionality
    if dims not in (parse_unit("t").dimensionality, parse_unit("t/yr").dimensionality):
        raise UnitError(f"to_oxide: units must be a mass or mass flow, got {unit!r}")
    dim = "element" if "element" in da.dims else "mined_element"
    labels = [str(x) for x in da[dim].values]
    factors = []
    for x in labels:
        if x in data.oxide:
            factors.append(oxide_factor(x, data))
        elif x in GROUPS:
            raise ParameterError(f"to_oxide: convert the elements, then add groups ({x!r})")
        else:
            raise ParameterError(f"to_oxide: no oxide for {x!r}")
    out = da * xr.DataArray(factors, dims=dim, coords={dim: labels})
    basis = da.attrs.get("basis")
    out.attrs = {**da.attrs, "basis": f"{basis}, as oxide" if basis else "oxide"}
    return out


#: Monte Carlo factors of the element model (:func:`.magnet_rees.composition_parameters`): the Pr, Dy and Tb
#: content of the magnets [mass fraction], by application and year, each one factor.
COMPOSITION_FACTORS: dict[str, str] = {"Pr": "magnet_pr_content", "Dy": "magnet_dy_content",
                                       "Tb": "magnet_tb_content"}


def interpolate_composition(table: xr.DataArray, time: np.ndarray) -> xr.DataArray:
    """(application, element, year) anchors -> (application, element, time), linear between
    the anchor years and held outside them."""
    years = table["year"].values.astype(float)
    t = np.asarray(time, dtype=float)
    vals = table.values  # (application, element, year)
    flat = vals.reshape(-1, vals.shape[-1])
    out = np.stack([np.interp(t, years, row) for row in flat])  # a few dozen rows, once per run
    return xr.DataArray(out.reshape(*vals.shape[:2], len(t)),
                        dims=("application", "element", "time"),
                        coords={"application": table["application"].values,
                                "element": table["element"].values, "time": time})


def composition_by_year(data: ElementData, time: np.ndarray,
                        scenario: ElementScenario | None = None,
                        values: xr.Dataset | None = None) -> xr.DataArray:
    """Magnet composition (application, element, time[, sample]) [mass fraction], linear
    between the anchor years and held outside them, with the scenario's composition ramps
    applied (multipliers, so the same on sampled values).

    ``values`` (parameter values) holding the :data:`COMPOSITION_FACTORS` (e.g. sampled by a
    Monte Carlo ensemble, any extra dims) replace the data of those elements."""
    da = interpolate_composition(data.composition, time)
    if values is not None and any(v in values for v in COMPOSITION_FACTORS.values()):
        parts = []
        for e in da["element"].values:
            var = COMPOSITION_FACTORS.get(str(e))
            part = da.sel(element=e, drop=True)
            if var is not None and var in values:
                part = values[var].reset_coords(drop=True).transpose(
                    "application", "time", ...).sel(application=da["application"].values)
                part = part.assign_coords(time=da["time"].values)
            parts.append(part)
        da = xr.concat(xr.broadcast(*parts), dim="element", join="override").assign_coords(
            element=da["element"].values).transpose("application", "element", "time", ...)
    ramps = scenario.composition if scenario else ()
    if ramps:
        t = np.asarray(time, dtype=float)
        mult = np.ones((da.sizes["application"], da.sizes["element"], len(t)))
        apps_all = [str(a) for a in da["application"].values]
        els = [str(e) for e in da["element"].values]
        for ramp in ramps:
            apps = list(ramp.labels) or apps_all
            unknown = sorted(set(apps) - set(apps_all))
            if unknown:
                raise ParameterError(f"element scenario {scenario.name!r}: unknown applications "
                                     f"{unknown}")
            ia = [apps_all.index(a) for a in apps]
            ie = [els.index(e) for e in ramp.elements]
            mult[np.ix_(ia, ie)] *= ramp.multiplier(t)
        da = da * xr.DataArray(mult, dims=("application", "element", "time"),
                               coords={"application": da["application"].values,
                                       "element": da["element"].values, "time": time})
    return da.sel(element=list(MAGNET_ELEMENTS)).assign_attrs(units="1")


def content_ratio(composition: xr.DataArray, mapping: dict[str, str | None],
                  dim: str) -> xr.DataArray:
    """Each element's content relative to Nd (element, ``dim``, time) [1] for the labels of
    ``mapping`` (their applications); labels mapped to None carry Nd only (1, 0, 0, 0)."""
    ratio = (composition / composition.sel(element="Nd")).transpose(
        "element", "application", "time", ...)
    apps = [str(a) for a in ratio["application"].values]
    missing = sorted({a for a in mapping.values() if a is not None} - set(apps))
    if missing:
        raise ParameterError(f"composition: no magnet composition for applications {missing}")
    elements = [str(e) for e in ratio["element"].values]
    index = [apps.index(a) if a is not None else 0 for a in mapping.values()]
    out = ratio.values[:, index, ...]  # (element, label, time, *extra)
    none = np.array([a is None for a in mapping.values()])
    nd_only = np.array([1.0 if e == "Nd" else 0.0 for e in elements])
    out[:, none, ...] = nd_only.reshape(-1, *([1] * (out.ndim - 1)))
    extra = ratio.dims[3:]
    return xr.DataArray(out, dims=("element", dim, "time", *extra),
                        coords={"element": elements, dim: list(mapping),
                                "time": ratio["time"].values,
                                **{d: ratio[d].values for d in extra if d in ratio.coords}})


def element_values(values: xr.Dataset, composition: xr.DataArray) -> xr.Dataset:
    """The Nd model's parameter values with an ``element`` dim on the three Nd-content terms
    (``nd_share_in_magnet``, ``end_use_nd_share``, ``end_use_nd_direct``), scaled by
    :func:`content_ratio`; units and attrs kept."""
    time = values["time"]
    comp = composition.sel(time=time)
    out = values.copy()
    for name, mapping, dim in (("nd_share_in_magnet", PRODUCT_APPLICATION, "product"),
                               ("end_use_nd_share", END_USE_APPLICATION, "end_use"),
                               ("end_use_nd_direct", END_USE_APPLICATION, "end_use")):
        labels = [str(x) for x in values[dim].values]
        unknown = [x for x in labels if x not in mapping]
        if unknown:
            raise ParameterError(f"element_values: no application for {dim} {unknown}")
        ratio = content_ratio(comp, {x: mapping[x] for x in labels}, dim)
        out[name] = (values[name] * ratio).assign_attrs(values[name].attrs)
    return out


def _mine_shares(data: ElementData, time: np.ndarray,
                 scenario: ElementScenario | None) -> xr.DataArray:
    """Each mine's share of world TREO output (mine, time) [1]: the data linear between years,
    held outside them, with the scenario's mine-output ramps applied."""
    out = data.mine_output
    years = out["year"].values.astype(float)
    t = np.asarray(time, dtype=float)
    vals = np.stack([np.interp(t, years, row) for row in out.values])
    da = xr.DataArray(vals, dims=("mine", "time"),
                      coords={"mine": out["mine"].values, "time": time})
    for ramp in (scenario.mine_output if scenario else ()):
        unknown = sorted(set(ramp.labels) - set(da["mine"].values.tolist()))
        if unknown:
            raise ParameterError(f"element scenario {scenario.name!r}: unknown mines {unknown}")
        mult = xr.DataArray(ramp.multiplier(t), dims="time", coords={"time": time})
        da.loc[dict(mine=list(ramp.labels))] = da.loc[dict(mine=list(ramp.labels))] * mult
    total = da.sum("mine")
    if bool((total <= 0).any()):
        raise ParameterError("mine output: no mine produces in some year")
    return da / total


def mine_contents(data: ElementData) -> xr.DataArray:
    """Element mass per tonne of TREO of each mine's ore (mine, mined_element) [t/t]."""
    dist = data.deposits.sel(deposit=[data.mine_deposit[m] for m in data.mine_output["mine"].values])
    dist = dist.rename(deposit="mine").assign_coords(mine=data.mine_output["mine"].values)
    return dist / oxide_factors(data, MINED_ELEMENTS, "mined_element")


def coproduction(ore_demand: xr.DataArray, shares: xr.DataArray, contents: xr.DataArray,
                 regions: dict[str, str], all_regions: list[str] | None = None, *,
                 rtol: float = 1e-9) -> dict[str, xr.DataArray]:
    """Co-production at the mine and the balance problem (module docstring).

    Parameters
    ----------
    ore_demand : xarray.DataArray
        World element in ore the chain needs (element, time[, extra dims]) [t/yr].
    shares : xarray.DataArray
        Each mine's share of world TREO output (mine, time) [1], summing to 1.
    contents : xarray.DataArray
        Element per TREO of each mine's ore (mine, mined_element) [t/t] (:func:`mine_contents`).
    regions : dict
        The model region of each mine.
    all_regions : list of str, optional
        The model's regions (those without a mine get 0); default the mines' regions.
    rtol : float
        Tolerance of the mass-balance check of the co-production, relative to the element mined.

    Returns
    -------
    dict
        ``treo_required`` (element, time) [t/yr TREO], ``ore_mined_treo`` (time) [t/yr TREO],
        ``binding_element`` (time), the :data:`COPRODUCTION_FLOWS` (mined_element, time)
        [t/yr], ``mine_output`` (region, mined_element, time) [t/yr] and its
        ``mine_production_share`` and ``mine_hhi``.

    Raises
    ------
    ParameterError
        An element is needed that no mine produces.
    MassBalanceError
        The co-production does not balance (mined = to chain + surplus) or a flow is negative,
        naming the element and year.
    """
    blend = (shares * contents).sum("mine")  # t element / t TREO (mined_element, time)
    per_t = blend.sel(mined_element=list(ore_demand["element"].values)).rename(
        mined_element="element")
    lacking = (per_t <= 0) & (ore_demand > 0)
    if bool(lacking.any()):
        el = ore_demand["element"].values[lacking.any([d for d in lacking.dims
                                                       if d != "element"]).values]
        raise ParameterError(f"co-production: no mine produces {el.tolist()}, which the chain "
                             "needs")
    required = (ore_demand / per_t.where(per_t > 0)).fillna(0.0)
    treo = required.max("element")
    binding = required.idxmax("element").where(treo > 0, "")
    by_mine = treo * shares * contents
    mined = by_mine.sum("mine")
    to_chain = ore_demand.rename(element="mined_element").reindex(
        mined_element=mined["mined_element"].values, fill_value=0.0)
    surplus = mined - to_chain
    scale = rtol * mined + 1e-6
    if bool((surplus < -scale).any()):
        bad = (surplus < -scale)
        e, t = (bad.any([d for d in bad.dims if d != k]) for k in ("mined_element", "time"))
        raise MassBalanceError(
            f"co-production: element mined is less than the chain uses for "
            f"{surplus['mined_element'].values[e.values].tolist()} in "
            f"{surplus['time'].values[t.values].tolist()[:5]} (largest gap "
            f"{float(-surplus.min()):.3g} t/yr)")
    surplus = surplus.clip(min=0.0)
    residual = mined - to_chain - surplus
    if bool((abs(residual) > scale).any()):
        raise MassBalanceError(f"co-production does not balance: largest gap "
                               f"{float(abs(residual).max()):.3g} t/yr")
    region = xr.DataArray([regions[str(m)] for m in shares["mine"].values], dims="mine",
                          coords={"mine": shares["mine"].values})
    by_region = by_mine.groupby(region.rename("region")).sum("mine")
    unknown = sorted(set(by_region["region"].values.tolist()) - set(all_regions or []))
    if all_regions is not None and unknown:
        raise ParameterError(f"mines: regions {unknown} are not model regions {all_regions}")
    if all_regions is not None:
        by_region = by_region.reindex(region=list(all_regions), fill_value=0.0)
    share = indicators.production_share(by_region.assign_attrs(units="t/yr"))
    t_yr = {"units": "t/yr"}
    return {
        "treo_required": required.assign_attrs(units="t/yr", basis="TREO"),
        "ore_mined_treo": treo.assign_attrs(units="t/yr", basis="TREO"),
        "binding_element": binding,
        "flow_coproduced": mined.assign_attrs(t_yr),
        "flow_coproduct_to_chain": to_chain.assign_attrs(t_yr),
        "flow_coproduct_surplus": surplus.assign_attrs(t_yr),
        "mine_output": by_region.assign_attrs(t_yr),
        "mine_production_share": share,
        "mine_hhi": indicators.hhi(share),
    }


_LONG_NAMES = {"treo_required": "Rare earths in ore (TREO, ore basis) needed to meet this "
                                "element's demand alone",
               "ore_mined_treo": "Rare earths in ore mined (TREO, ore basis: before mining and "
                                 "separation losses), set by the binding element",
               "binding_element": "Element that binds the mining requirement (balance problem)",
               "mine_output": "Element mined by region of the mine (co-production)",
               "mine_production_share": "Share of each element's mine output by region",
               "mine_hhi": "Herfindahl-Hirschman index of each element's mine output over the "
                           "model regions",
               **COPRODUCTION_FLOWS}


def _warn_surplus_by_element(surplus: xr.DataArray) -> None:
    """SecondaryExceedsDemandWarning naming each element and its years with a surplus."""
    over = surplus > 0
    if not bool(over.any()):
        return
    parts = []
    for e in surplus["element"].values:
        o = over.sel(element=e)
        years = surplus["time"].values[o.any([d for d in o.dims if d != "time"]).values]
        if len(years):
            parts.append(f"{e} in {years.tolist()}")
    warnings.warn(f"secondary supply exceeds total demand for {'; '.join(parts)}: the excess "
                  "is stockpiled (flow_stockpile)", SecondaryExceedsDemandWarning, stacklevel=3)


def simulate_elements(values: xr.Dataset, data: ElementData,
                      scenario: ElementScenario | None = None, *, check: bool = True,
                      rtol: float = 1e-9) -> xr.Dataset:
    """Run the Nd chain for Nd, Pr, Dy and Tb at once, then the co-production at the mine.

    Parameters
    ----------
    values : xarray.Dataset
        Parameter values of the Nd model (``ParameterSet.values``, any scenario), with units.
    data : ElementData
        Magnet composition, deposits and mines (:func:`.element_data.load_element_data`).
    scenario : ElementScenario, optional
        Ramps of element contents and mine outputs (its ``nd_scenario`` is applied by the
        caller, e.g. :func:`run_elements`).
    check, rtol
        As in :func:`mfa.models.neodymium.simulate`: the mass balance of every process is
        checked for every element, and that of the co-production at the mine.

    Returns
    -------
    xarray.Dataset
        Every result of the Nd model with an ``element`` dim (element mass: t, t/yr), and the
        co-production results of :func:`coproduction` (``mined_element`` dim: La, Ce, Pr, Nd,
        Dy, Tb). ``attrs``: ``model`` ``"magnet_rees"``, ``material`` ``"Nd, Pr, Dy, Tb"``.
    """
    from mfa.models.neodymium.simulation import new_products_and_fleets, simulate

    if not isinstance(values, xr.Dataset):
        raise ParameterError("simulate_elements: values must be an xarray.Dataset")
    time = values["time"].values
    comp = composition_by_year(data, time, scenario, values)
    ev = processing.element_yields(element_values(values, comp), data)
    gbd = processing.gbd_share_by_product(data, time, MAGNET_ELEMENTS,
                                          list(values["product"].values), PRODUCT_APPLICATION,
                                          values)
    products = new_products_and_fleets(ev)  # once: the diffusion rates do not change them
    ev, diffusion = processing.diffusion_parameters(
        ev, gbd, processing.diffusion_utilisation(data, values), products[0])
    with warnings.catch_warnings():  # re-issued below naming the elements, not "Nd"
        warnings.simplefilter("ignore", SecondaryExceedsDemandWarning)
        ds = simulate(ev, check=check, rtol=rtol, products=products)
    ds = processing.with_diffusion_flows(ds, ev, diffusion, check=check, rtol=rtol)
    _warn_surplus_by_element(ds["secondary_stockpile_addition"])
    for name in ds.data_vars:
        long_name = ds[name].attrs.get("long_name")
        if long_name:
            ds[name].attrs["long_name"] = long_name.replace("Nd", "Element")
    ds = ds.transpose("element", "time", ...)
    ore = ds["primary_demand_ore"].sum("region")
    cop = coproduction(ore, _mine_shares(data, time, scenario), mine_contents(data),
                       data.mine_region, [str(r) for r in values["region"].values], rtol=rtol)
    for name, da in cop.items():
        ds[name] = da.assign_attrs(long_name=_LONG_NAMES[name])
    ds["magnet_composition"] = comp.assign_attrs(
        units="1", long_name="Element mass fraction of the NdFeB magnets of each application")
    ds["oxide_factor"] = oxide_factors(data, MAGNET_ELEMENTS).assign_attrs(
        long_name="Trade-oxide mass per element mass (Nd2O3, Pr6O11, Dy2O3, Tb4O7)")
    ds.attrs.update(model="magnet_rees", material="Nd, Pr, Dy, Tb",
                    element_scenario=scenario.name if scenario else "")
    return ds


def run_elements(scenario: str = "baseline", params: object = None,
                 elements_dir: object = None, *, check: bool = True) -> xr.Dataset:
    """Run the element model for one element scenario (or, if no element scenario of that
    name exists, the Nd scenario of that name with the data as they are).

    Parameters
    ----------
    scenario : str or path-like
        An element scenario (``params/elements/scenarios/<name>.toml`` or a path), or a name of
        the Nd scenarios.
    params : ParameterSet, path-like or None
        The Nd model's parameters (default: the packaged ones).
    elements_dir : path-like, optional
        The element data directory (default: ``params/elements``).
    """
    from pathlib import Path

    from mfa.analysis.run import prepare
    from mfa.models.neodymium import MODEL
    from mfa.models.neodymium.element_data import (
        default_elements_dir,
        load_element_data,
        load_element_scenario,
    )

    directory = Path(elements_dir) if elements_dir is not None else default_elements_dir()
    path = Path(str(scenario))
    named = directory / "scenarios" / f"{scenario}.toml"
    if path.suffix == ".toml" or named.is_file():
        element_scenario = load_element_scenario(scenario, directory)
        nd_scenario = element_scenario.nd_scenario
    else:
        element_scenario, nd_scenario = None, str(scenario)
    _, parameters, _ = prepare(MODEL, nd_scenario, params)
    ds = simulate_elements(parameters.values, load_element_data(directory), element_scenario,
                           check=check)
    files = [directory / f"{n}.csv"
             for n in ("elements", "composition", "deposits", "mines", "processing")]
    if element_scenario is not None:
        files.append(path if path.suffix == ".toml" else named)
    ds.attrs.update(
        scenario=element_scenario.name if element_scenario else nd_scenario,
        nd_scenario=nd_scenario,
        element_files=json.dumps({f.name: hashlib.sha256(f.read_bytes()).hexdigest()
                                  for f in files}),
    )
    return ds
