"""Benchmark: mfa.core.stocks against flodym 1.1.0 and a hand-written numpy convolution.

Run::

    python benchmarks/bench_dsm.py            # needs the `bench` extra: flodym==1.1.0, threadpoolctl

Cases: T = 201 years (1900-2100), normal lifetimes with a mean per product (5-30 yr) and
sd = 0.3 x mean, logistic inflows (inflow-driven) or logistic stocks (stock-driven), sizes
12 regions x 6 products and 50 regions x 20 products, each with the three inflow conventions
(``inflow_at`` start, middle, end). Each case runs the full public call on every side
(lifetime model set-up, survival curves, solve): ``mfa.core.stocks.inflow_driven`` /
``stock_driven`` on xarray inputs; flodym's ``InflowDrivenDSM`` / ``StockDrivenDSM``
(``NormalLifetime`` with the same ``inflow_at``, solver "manual"); and a hand-written numpy
version on plain arrays (``scipy.special.ndtr`` curves, one Toeplitz matrix pair per product,
``S @ inflow`` matrix products; for the stock-driven model ``scipy.linalg.solve_triangular`` per
product), the speed limit a user could reach without a framework.

Times are the best of several repeats of the CPU time of this process (``time.process_time``:
on a shared machine it excludes time spent waiting for the CPU; BLAS runs on one thread, so CPU
time is the run time on an idle core). Peak extra memory is the tracemalloc peak of one call
(numpy reports its buffers to tracemalloc), compared with the size of the arrays returned
(stock, outflow and inflow). "max rel diff" is element-wise, ``max |mfa - flodym| / |flodym|``
over stock/outflow (inflow-driven) or inflow/outflow (stock-driven), elements with
``|flodym| < 1e-300`` skipped.

BLAS is pinned to one thread (environment variables set before numpy is imported, and
threadpoolctl). Exit status 1 if a target is missed (targets: module constants).
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
from scipy.linalg import solve_triangular  # noqa: E402
from scipy.special import ndtr  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from mfa.core.lifetimes import INFLOW_AT, Normal  # noqa: E402
from mfa.core.stocks import inflow_driven, stock_driven  # noqa: E402

YEARS = np.arange(1900, 2101)
SIZES = [(12, 6), (50, 20)]
CONVENTIONS = ("start", "middle", "end")
#: Targets at 50 x 20 (issue 13): speed-up over flodym, ratio to the numpy convolution (inflow-
#: driven), peak extra memory over the outputs, element-wise difference to flodym.
TARGETS = {"inflow": 150.0, "stock": 80.0}
NUMPY_RATIO_TARGET = 1.5
MEMORY_RATIO_TARGET = 2.0
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


def run_mfa(kind: str, data: dict[str, np.ndarray], regions: list[str], products: list[str],
            inflow_at: str = "middle"):
    coords = {"time": YEARS, "region": regions, "product": products}
    mean = xr.DataArray(data["mean"], dims="product", coords={"product": products}, attrs={"units": "yr"})
    sd = xr.DataArray(data["sd"], dims="product", coords={"product": products}, attrs={"units": "yr"})

    if kind == "inflow":
        da = xr.DataArray(data["inflow"], dims=tuple(coords), coords=coords, attrs={"units": "t/yr"})

        def call():
            ds = inflow_driven(da, Normal(mean=mean, sd=sd, inflow_at=inflow_at))
            return {"stock": ds["stock"].values, "outflow": ds["outflow"].values,
                    "inflow": ds["inflow"].values}

    else:
        da = xr.DataArray(data["stock"], dims=tuple(coords), coords=coords, attrs={"units": "t"})

        def call():
            ds = stock_driven(da, Normal(mean=mean, sd=sd, inflow_at=inflow_at))
            return {"inflow": ds["inflow"].values, "outflow": ds["outflow"].values,
                    "stock": ds["stock"].values}

    return call


def run_numpy(kind: str, data: dict[str, np.ndarray], inflow_at: str = "middle"):
    """Hand-written numpy: survival curves, a Toeplitz pair per product, matrix products."""
    T = YEARS.size
    lag = np.subtract.outer(np.arange(T), np.arange(T))
    lower = lag >= 0
    lag0 = np.where(lower, lag, 0)
    ages = np.arange(T) + (1.0 - INFLOW_AT[inflow_at])

    def kernels():
        s = ndtr((data["mean"][:, None] - ages[None, :]) / data["sd"][:, None])  # (P, T)
        d = np.empty_like(s)
        d[:, 0] = 1.0 - s[:, 0]
        d[:, 1:] = s[:, :-1] - s[:, 1:]
        return s, d

    if kind == "inflow":
        x = data["inflow"]

        def call():
            s, d = kernels()
            stock, outflow = np.empty_like(x), np.empty_like(x)
            for p in range(x.shape[2]):
                stock[:, :, p] = (s[p][lag0] * lower) @ x[:, :, p]
                outflow[:, :, p] = (d[p][lag0] * lower) @ x[:, :, p]
            return {"stock": stock, "outflow": outflow}

    else:
        target = data["stock"]

        def call():
            s, d = kernels()
            inflow, outflow = np.empty_like(target), np.empty_like(target)
            for p in range(target.shape[2]):
                inflow[:, :, p] = solve_triangular(s[p][lag0] * lower, target[:, :, p], lower=True)
                outflow[:, :, p] = (d[p][lag0] * lower) @ inflow[:, :, p]
            return {"inflow": inflow, "outflow": outflow}

    return call


def run_flodym(kind: str, data: dict[str, np.ndarray], regions: list[str], products: list[str],
               inflow_at: str = "middle"):
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
            lt = fd.NormalLifetime(dims=dims, mean=mean, std=sd, inflow_at=inflow_at)
            dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=lt)
            dsm.inflow[...] = data["inflow"]
            dsm.compute()
            return {"stock": dsm.stock.values, "outflow": dsm.outflow.values}

    else:

        def call():
            lt = fd.NormalLifetime(dims=dims, mean=mean, std=sd, inflow_at=inflow_at)
            dsm = fd.StockDrivenDSM(dims=dims, lifetime_model=lt)
            dsm.stock[...] = data["stock"]
            dsm.compute()
            return {"inflow": dsm.inflow.values, "outflow": dsm.outflow.values}

    return call


def best_time(call: Callable[[], object], repeat: int) -> float:
    """Best CPU time [s] of ``repeat`` calls."""
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def peak_mib(call: Callable[[], dict]) -> tuple[float, float]:
    """(tracemalloc peak of one call, size of the arrays it returns) [MiB]."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    result = call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    outputs = sum(np.asarray(v).nbytes for v in result.values())
    del result
    return (peak - base) / 2**20, outputs / 2**20


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
    parser.add_argument("--repeat-mfa", type=int, default=30)
    parser.add_argument("--repeat-flodym", type=int, default=2)
    args = parser.parse_args(argv)
    from importlib.metadata import version

    rows = []
    with threadpool_limits(limits=1):
        print(f"BLAS pinned to 1 thread (OPENBLAS/MKL/OMP_NUM_THREADS=1, threadpoolctl); "
              f"numpy {np.__version__}, flodym {version('flodym')}, T = {YEARS.size} years; "
              "best CPU time of repeated calls")
        for n_region, n_product in SIZES:
            regions = [f"r{i}" for i in range(n_region)]
            products = [f"p{i}" for i in range(n_product)]
            data = make_inputs(n_region, n_product)
            for kind in ("inflow", "stock"):
                for inflow_at in CONVENTIONS:
                    f_mfa = run_mfa(kind, data, regions, products, inflow_at)
                    f_np = run_numpy(kind, data, inflow_at)
                    f_fd = run_flodym(kind, data, regions, products, inflow_at)
                    f_mfa()  # warm-up (imports, caches)
                    f_np()
                    t_mfa = best_time(f_mfa, args.repeat_mfa)
                    t_np = best_time(f_np, args.repeat_mfa)
                    t_fd = best_time(f_fd, args.repeat_flodym)
                    m_mfa, out_mib = peak_mib(f_mfa)
                    fd_out = f_fd()
                    diff = max_rel_diff(f_mfa(), fd_out)
                    np_diff = max_rel_diff(f_np(), fd_out)  # the numpy version solves the same model
                    rows.append((f"{kind}-driven {n_region}x{n_product} {inflow_at}", t_mfa, t_np, t_fd,
                                 m_mfa, out_mib, diff, np_diff, kind, (n_region, n_product)))
    header = (f"{'case':<30}{'mfa ms':>8}{'numpy ms':>10}{'flodym ms':>11}{'vs flodym':>11}"
              f"{'vs numpy':>10}{'mfa MiB':>9}{'/outputs':>10}{'max rel diff':>14}{'(numpy)':>10}")
    print(header)
    print("-" * len(header))
    ok = True
    for case, t_mfa, t_np, t_fd, m_mfa, out_mib, diff, np_diff, kind, size in rows:
        speedup, vs_numpy, mem_ratio = t_fd / t_mfa, t_mfa / t_np, m_mfa / out_mib
        print(f"{case:<30}{t_mfa * 1e3:>8.2f}{t_np * 1e3:>10.2f}{t_fd * 1e3:>11.1f}{speedup:>10.0f}x"
              f"{vs_numpy:>9.2f}x{m_mfa:>9.1f}{mem_ratio:>9.2f}x{diff:>14.1e}{np_diff:>10.0e}")
        ok &= diff <= DIFF_TARGET
        if size == (50, 20):
            ok &= speedup >= TARGETS[kind] and mem_ratio <= MEMORY_RATIO_TARGET
            if kind == "inflow":
                ok &= vs_numpy <= NUMPY_RATIO_TARGET
    print(f"targets at 50x20: inflow-driven >= {TARGETS['inflow']:.0f}x flodym and <= "
          f"{NUMPY_RATIO_TARGET}x numpy, stock-driven >= {TARGETS['stock']:.0f}x flodym, peak extra "
          f"memory <= {MEMORY_RATIO_TARGET:g}x outputs; everywhere max rel diff <= {DIFF_TARGET:g}: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
