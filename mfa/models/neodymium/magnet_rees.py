"""The element model as a framework model, ``magnet_rees`` (``mfa --model magnet_rees run``).

It reads the Nd model's parameters and scenarios (``params/``, ``params/scenarios``) and the
element data in ``<params>/elements`` (:mod:`.element_data`), and runs
:func:`.elements.simulate_elements` with the data as they are. The element scenarios (HRE-free
magnets, ionic-clay shock: ramps of element contents and mine outputs) are run from Python with
:func:`.elements.run_elements`. ``binding_element`` is stored as CF flags (integer codes, ``flag_meanings``) so
that Monte Carlo ensembles (``mfa --model magnet_rees mc``) and netCDF files hold numbers; the
ensemble's world totals of the headline variables are magnet-REE totals (summed over elements).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from mfa.core.system import ProcessSystem

__all__ = ["MODEL", "MagnetReesModel"]


class MagnetReesModel:
    """Nd, Pr, Dy and Tb through the Nd chain, and co-production at the mine."""

    name = "magnet_rees"
    material = "Magnet REE"
    #: Result variables summarised by default (by element).
    headline: tuple[str, ...] = ("primary_demand", "total_demand", "secondary_supply",
                                 "ore_mined_treo", "flow_coproduct_surplus")

    def __init__(self, elements_dir: str | Path | None = None) -> None:
        self._elements_dir = elements_dir

    @property
    def default_params(self) -> Path:
        """The packaged default data (the Nd model's; element data in its ``elements/``)."""
        from mfa.data.params import default_params_dir

        return Path(default_params_dir())

    def system(self, extra_dims: tuple[str, ...] = ()) -> ProcessSystem:
        """The Nd process system with an ``element`` dim (balanced element by element)."""
        from mfa.models.neodymium.structure import process_system

        return process_system(tuple(dict.fromkeys(("element", *extra_dims))))

    def simulate(self, values: xr.Dataset, *, check: bool = True, rtol: float = 1e-9
                 ) -> xr.Dataset:
        """:func:`.elements.simulate_elements` on ``values`` with the element data."""
        from mfa.models.neodymium.element_data import load_element_data
        from mfa.models.neodymium.elements import simulate_elements

        directory = self._elements_dir
        if directory is None and "params_dir" in values.attrs:
            directory = Path(values.attrs["params_dir"]) / "elements"
        ds = simulate_elements(values, load_element_data(directory), check=check, rtol=rtol)
        ds["binding_element"] = _as_flags(ds["binding_element"], ds["element"].values)
        ds.attrs.update(model=self.name, material=self.material)
        return ds

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
