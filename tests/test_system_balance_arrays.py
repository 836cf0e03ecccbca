"""The mass balance in one pass over plain arrays (issue 15 item 3) against a cell-by-cell
reference: residuals, throughputs, NaN cells, signed and pooled flows, kept dims."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from mfa.core.errors import MassBalanceError
from mfa.core.system import (
    RESIDUAL,
    RESIDUAL_TOTAL,
    THROUGHPUT,
    THROUGHPUT_TOTAL,
    Flow,
    ProcessSystem,
    Stock,
)

T, R, P, S = [2000, 2001, 2002], ["A", "B"], ["p", "q", "r"], [0, 1, 2, 3]
COORDS = {"time": T, "region": R, "product": P, "sample": S}
FLOWS = [
    Flow("mined", "environment", "mine", ("time", "region", "sample")),
    # signed between two regional processes, before their other flows: their gross sums part
    # from the net ones here and must take every later flow
    Flow("swap", "mine", "use", ("time", "region", "sample"), signed=True),
    Flow("ore", "mine", "plant", ("time", "region", "sample")),
    Flow("export", "plant", "trade", ("time", "region", "sample"), signed=True),
    Flow("goods", "plant", "use", ("time", "region", "product", "sample")),
    Flow("world_loss", "trade", "environment", ("time", "sample")),
    Flow("scrap", "use", "environment", ("time", "region", "product", "sample")),
]
STOCKS = [Stock("stock", "use", ("time", "region", "product", "sample")),
          Stock("drawer", "use", ("time", "region", "product", "sample"))]  # two in a process


def _system() -> ProcessSystem:
    return ProcessSystem("toy", ["mine", "plant", "trade", "use"], FLOWS, STOCKS,
                         kept_dims=("sample",))


def _values(seed: int) -> dict[str, xr.DataArray]:
    rng = np.random.default_rng(seed)
    out = {}
    for obj in FLOWS + STOCKS:
        shape = [len(COORDS[d]) for d in obj.dims]
        data = rng.uniform(-1.0 if getattr(obj, "signed", False) else 0.0, 5.0, shape)
        unit = "t" if isinstance(obj, Stock) else "t/yr"
        out[obj.name] = xr.DataArray(data, dims=obj.dims, coords={d: COORDS[d] for d in obj.dims},
                                     attrs={"units": unit})
    return out


def _reference(values: dict[str, xr.DataArray], initial: float) -> dict[str, np.ndarray]:
    """Cell by cell: inputs - outputs - stock change; throughput from gross parts."""
    system = _system()
    procs = list(system.processes)
    full = {k: v.broadcast_like(xr.Dataset(coords=COORDS)).transpose("time", "region", "product",
                                                                     "sample").values
            for k, v in values.items()}
    # flows without region: spread over a one-region axis of its own
    nt, nr, ns = len(T), len(R), len(S)
    res = np.full((nt, len(procs), nr, ns), np.nan)
    thr = np.full_like(res, np.nan)
    tot = np.zeros((nt, len(procs), ns))
    thr_tot = np.zeros_like(tot)
    for i, p in enumerate(procs):
        regional = system.regional[p]
        gi = go = net = 0.0
        for f in FLOWS:
            a = values[f.name]
            a = a.sum([d for d in a.dims if d not in ("time", "region", "sample")])
            a = a.transpose("time", *(("region",) if "region" in a.dims else ()), "sample").values
            if not regional and a.ndim == 3:  # parts split per region, then summed
                pos, neg, a = np.maximum(a, 0).sum(1), np.maximum(-a, 0).sum(1), a.sum(1)
            else:
                pos, neg = np.maximum(a, 0), np.maximum(-a, 0)
            if f.target == p:
                net, gi, go = net + a, gi + pos, go + neg
            if f.source == p:
                net, gi, go = net - a, gi + neg, go + pos
        change = 0.0
        for s in STOCKS:
            if s.process == p:  # the initial value only for "stock"
                st = full[s.name].sum(axis=2)
                start = initial if s.name == "stock" else 0.0
                change = change + np.diff(st, axis=0, prepend=np.full((1, nr, ns), start))
        r = net - change
        th = np.maximum(gi + np.maximum(-change, 0), go + np.maximum(change, 0))
        if regional:
            res[:, i], thr[:, i] = r, th
            tot[:, i], thr_tot[:, i] = r.sum(1), th.sum(1)
        else:
            tot[:, i], thr_tot[:, i] = r, th
    del full
    return {RESIDUAL: res, THROUGHPUT: thr, RESIDUAL_TOTAL: tot, THROUGHPUT_TOTAL: thr_tot}


@pytest.mark.parametrize("seed", [0, 1])
def test_one_pass_balance_equals_the_cell_by_cell_reference(seed):
    values = _values(seed)
    initial = {"stock": xr.DataArray(0.5, attrs={"units": "t"})}
    ds = _system().to_dataset(values, initial_stocks=initial)
    ref = _reference(values, initial=0.5 * len(P))
    for k, want in ref.items():
        np.testing.assert_allclose(ds[k].transpose("time", "process", ...).values, want,
                                   rtol=1e-13, atol=1e-12, err_msg=k)
    assert ds.attrs["max_abs_mass_balance_residual"] == pytest.approx(
        float(np.nanmax(np.abs(np.concatenate([ref[RESIDUAL].ravel(), ref[RESIDUAL_TOTAL].ravel()])))))


def test_a_missing_value_makes_only_the_cells_it_touches_nan():
    values = _values(2)
    ore = values["ore"].copy()
    ore[1, 0, 2] = np.nan  # year 2001, region A, sample 2
    values["ore"] = ore
    ds = _system().to_dataset(values)
    res = ds[RESIDUAL].sel(time=2001, region="A", sample=2)
    assert np.isnan(res.sel(process=["mine", "plant"]).values).all()
    assert np.isfinite(res.sel(process="use").values)
    assert np.isnan(ds[THROUGHPUT].sel(time=2001, region="A", sample=2, process="mine").values)
    assert np.isfinite(ds[RESIDUAL].sel(time=2001, region="B", process="mine").values).all()
    with pytest.raises(MassBalanceError, match=r"process 'mine', year 2001, region 'A', sample 2: "
                                               r"residual is NaN"):
        _system().check_balance(ds)


def test_quick_balance_test_checks_the_chosen_processes_in_every_block_of_years(monkeypatch):
    """``_all_within``: only the processes asked for (the others may be NaN: balanced over
    all regions), every year whatever the blocks."""
    from mfa.core.system import _balance

    monkeypatch.setattr(_balance, "_CHECK_BLOCK", 2 * 3 * 4)  # one year of (3, 4) at a time
    r = np.zeros((5, 3, 4))
    t = np.ones((5, 3, 4))
    r[:, 1] = np.nan  # not asked for
    assert _balance._all_within(r, t, np.array([0, 2]), rtol=1e-9, atol=1e-6)
    assert not _balance._all_within(r, t, np.array([0, 1]), rtol=1e-9, atol=1e-6)
    r[4, 2, 3] = 1e-3  # the last year fails
    assert not _balance._all_within(r, t, np.array([0, 2]), rtol=1e-9, atol=1e-6)
    assert _balance._all_within(r, t, np.array([0]), rtol=1e-9, atol=1e-6)


def test_canonical_arrays_keep_their_coordinate_objects_and_equal_a_transpose():
    from mfa.core.system import _values

    da = xr.DataArray(np.arange(6.0).reshape(3, 2), dims=("time", "region"),
                      coords={"time": [2000, 2001, 2002], "region": ["a", "b"]},
                      attrs={"units": "t/yr", "note": "x"}, name="f")
    same = _values._canonical(da, "t/yr", "flow 'f'", ("time", "region"))
    turned = _values._canonical(da, "t/yr", "flow 'f'", ("region", "time"))
    xr.testing.assert_identical(same, da.transpose("time", "region"))
    xr.testing.assert_identical(turned, da.transpose("region", "time"))
    assert all(same.coords.variables[d] is da.coords.variables[d] for d in da.dims)
    same.attrs["units"] = "changed"  # its own attrs
    assert da.attrs["units"] == "t/yr"


def test_balance_arrays_equal_dataarrays_built_from_their_coordinates():
    from mfa.core.system import _balance

    coords = {"time": np.array([2000, 2001]), "process": ["p", "q"], "region": ["a", "b", "c"]}
    total_coords = {"time": coords["time"], "process": coords["process"]}
    rng = np.random.default_rng(0)
    arrays = [rng.random((2, 2, 3)), rng.random((2, 2)), rng.random((2, 2, 3)), rng.random((2, 2))]
    out = _balance._balance_arrays(*arrays, (("time", "process", "region"), coords),
                                   (("time", "process"), total_coords), "p")
    for da, data in zip(out, arrays, strict=True):
        ref = xr.DataArray(data, dims=da.dims, coords={d: coords[d] for d in da.dims},
                           name=da.name, attrs=da.attrs)
        xr.testing.assert_identical(da, ref)
    assert out[0].attrs["regions_summed"] == "p" and out[3].attrs["units"]
    same = _balance._balance_arrays(*arrays[1:2], *arrays[1:2], *arrays[3:], *arrays[3:],
                                    (("time", "process"), total_coords),
                                    (("time", "process"), total_coords), "")
    xr.testing.assert_identical(same[0].drop_attrs().rename("x"), same[1].drop_attrs().rename("x"))
