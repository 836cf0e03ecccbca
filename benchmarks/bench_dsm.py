"""Benchmark: mfa.core.stocks against flodym 1.1.0 on identical dynamic stock models.

Run::

    python benchmarks/bench_dsm.py            # needs the `bench` extra: flodym==1.1.0, threadpoolctl

Cases: T = 201 years (1900-2100), normal lifetimes with a mean per product (5-30 yr) and
sd = 0.3 x mean, logistic inflows (inflow-driven) or logistic stocks (stock-driven), sizes
12 regions x 6 products and 50 regions x 20 products. Each case runs the full public call on
both sides (lifetime model set-up, survival curves, solve): ``mfa.core.stocks.inflow_driven`` /
``stock_driven`` on xarray inputs, and flodym's ``InflowDrivenDSM`` / ``StockDrivenDSM``
(``NormalLifetime``, default ``inflow_at="middle"``, solver "manual"). Times are the best of
several repeats; peak extra memory is the tracemalloc peak of one call (numpy reports its
buffers to tracemalloc). The largest relative difference is element-wise,
``max |mfa - flodym| / |flodym|`` over stock/outflow (inflow-driven) or inflow/outflow
(stock-driven), elements with |flodym| < 1e-300 skipped.

BLAS is pinned to one thread (environment variables set before numpy is imported, and
threadpoolctl), so the numbers are single-core.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from mfa.core.lifetimes import Normal  # noqa: E402
from mfa.core.stocks import inflow_driven, stock_driven  # noqa: E402

YEARS = np.arange(1900, 2101)
SIZES = [(12, 6), (50, 20)]
TARGETS = {"inflow": 40.0, "stock": 30.0}
MEMORY_TARGET_MIB = 64.0
DIFF_TARGET = 1e-12


def make_inputs(n_region: int, n_product: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Logistic inflows and stocks (time, region, product) and a mean lifetime per product."""
    rng = np.random.default_rng(seed)
    t = YEARS[:, None, None].astype(float)
    size = (1, n_region, n_product)
    level = rng.uniform(1.0, 100.0, size)
    mid = rng.uniform(1990.0, 2060.0, size)
    width = rng.uniform(5.0, 25.0, size)
    inflow = level / (1.0 + np.exp(-(t - mid) / width))
    stock = 20.0 * level / (1.0 + np.exp(-(t - mid) / width))
    mean = np.linspace(5.0, 30.0, n_product)
    return {"inflow": inflow, "stock": stock, "mean": mean, "sd": 0.3 * mean}


def run_mfa(kind: str, data: dict[str, np.ndarray], regions: list[str], products: list[str]):
    coords = {"time": YEARS, "region": regions, "product": products}
    mean = xr.DataArray(data["mean"], dims="product", coords={"product": products}, attrs={"units": "yr"})
    sd = xr.DataArray(data["sd"], dims="product", coords={"product": products}, attrs={"units": "yr"})

    if kind == "inflow":
        da = xr.DataArray(data["inflow"], dims=tuple(coords), coords=coords, attrs={"units": "t/yr"})

        def call():
            ds = inflow_driven(da, Normal(mean=mean, sd=sd))
            return {"stock": ds["stock"].values, "outflow": ds["outflow"].values}

    else:
        da = xr.DataArray(data["stock"], dims=tuple(coords), coords=coords, attrs={"units": "t"})

        def call():
            ds = stock_driven(da, Normal(mean=mean, sd=sd))
            return {"inflow": ds["inflow"].values, "outflow": ds["outflow"].values}

    return call


def run_flodym(kind: str, data: dict[str, np.ndarray], regions: list[str], products: list[str]):
    import flodym as fd

    dims = fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=[int(y) for y in YEARS]),
            fd.Dimension(name="region", letter="r", items=regions),
            fd.Dimension(name="product", letter="p", items=products),
        ]
    )
    mean = fd.FlodymArray(dims=dims[("p",)], values=data["mean"])
    sd = fd.FlodymArray(dims=dims[("p",)], values=data["sd"])

    if kind == "inflow":

        def call():
            lt = fd.NormalLifetime(dims=dims, mean=mean, std=sd)
            dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=lt)
            dsm.inflow[...] = data["inflow"]
            dsm.compute()
            return {"stock": dsm.stock.values, "outflow": dsm.outflow.values}

    else:

        def call():
            lt = fd.NormalLifetime(dims=dims, mean=mean, std=sd)
            dsm = fd.StockDrivenDSM(dims=dims, lifetime_model=lt)
            dsm.stock[...] = data["stock"]
            dsm.compute()
            return {"inflow": dsm.inflow.values, "outflow": dsm.outflow.values}

    return call


def best_time(call: Callable[[], object], repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def peak_mib(call: Callable[[], object]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    result = call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return (peak - base) / 2**20


def max_rel_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    worst = 0.0
    for key in b:
        ref = np.asarray(b[key])
        mask = np.abs(ref) >= 1e-300
        diff = np.abs(np.asarray(a[key]) - ref)[mask] / np.abs(ref[mask])
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat-mfa", type=int, default=20)
    parser.add_argument("--repeat-flodym", type=int, default=3)
    args = parser.parse_args(argv)
    from importlib.metadata import version

    rows = []
    with threadpool_limits(limits=1):
        print(f"BLAS pinned to 1 thread (OPENBLAS/MKL/OMP_NUM_THREADS=1, threadpoolctl); "
              f"numpy {np.__version__}, flodym {version('flodym')}, T = {YEARS.size} years")
        for n_region, n_product in SIZES:
            regions = [f"r{i}" for i in range(n_region)]
            products = [f"p{i}" for i in range(n_product)]
            data = make_inputs(n_region, n_product)
            for kind in ("inflow", "stock"):
                f_mfa = run_mfa(kind, data, regions, products)
                f_fd = run_flodym(kind, data, regions, products)
                f_mfa()  # warm-up (imports, caches)
                t_mfa = best_time(f_mfa, args.repeat_mfa)
                t_fd = best_time(f_fd, args.repeat_flodym)
                m_mfa = peak_mib(f_mfa)
                m_fd = peak_mib(f_fd)
                diff = max_rel_diff(f_mfa(), f_fd())
                rows.append((f"{kind}-driven {n_region}x{n_product}", t_mfa, t_fd, m_mfa, m_fd, diff, kind,
                             (n_region, n_product)))
    header = f"{'case':<24}{'mfa [ms]':>10}{'flodym [ms]':>13}{'ratio':>8}{'mfa MiB':>9}{'flodym MiB':>12}{'max rel diff':>14}"
    print(header)
    print("-" * len(header))
    ok = True
    for case, t_mfa, t_fd, m_mfa, m_fd, diff, kind, size in rows:
        ratio = t_fd / t_mfa
        print(f"{case:<24}{t_mfa * 1e3:>10.2f}{t_fd * 1e3:>13.1f}{ratio:>7.0f}x{m_mfa:>9.1f}{m_fd:>12.1f}{diff:>14.1e}")
        if size == (50, 20):
            ok &= ratio >= TARGETS[kind] and m_mfa <= MEMORY_TARGET_MIB and diff <= DIFF_TARGET
        else:
            ok &= diff <= DIFF_TARGET
    print(f"targets at 50x20: inflow-driven >= {TARGETS['inflow']:.0f}x, stock-driven >= "
          f"{TARGETS['stock']:.0f}x, <= {MEMORY_TARGET_MIB:.0f} MiB, max rel diff <= {DIFF_TARGET:g}: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
