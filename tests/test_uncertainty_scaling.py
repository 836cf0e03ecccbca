"""Monte Carlo machinery at scale: exact quantiles by selection, the sample-last store read in
blocks of cells, per-sample reductions in the chunk tasks (issue 15)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import xarray as xr

from mfa.analysis import uncertainty as U
from mfa.analysis.uncertainty import _quantiles, _scheduling, _storage, _summary
from mfa.analysis.uncertainty._quantiles import quantiles_by_row
from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario

FACTORS = ["magnet_per_vehicle", "lifetime_mean", "collection_rate", "yield_mining"]


def _numpy_quantiles(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The method used before issue 15: np.quantile per column, nanquantile where NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.quantile(a, q, axis=0)
        nan_cols = np.flatnonzero(np.isnan(a).any(axis=0))
        ref[:, nan_cols] = np.nanquantile(a[:, nan_cols], q, axis=0)
    return ref


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000])
@pytest.mark.parametrize("quantiles", [(0.05, 0.5, 0.95), (0.0, 1.0), (0.3,), (0.5, 0.5),
                                       (0.0, 0.05, 0.25, 0.5, 0.95, 1.0),
                                       tuple(np.linspace(0, 1, 41))])
def test_quantiles_by_selection_are_numpys_bit_for_bit(n, quantiles):
    rng = np.random.default_rng(n)
    a = rng.lognormal(size=(n, 12))
    a[:, 1] = np.inf
    a[0, 2] = -np.inf
    a[: max(1, n // 3), 3] = np.nan  # quantiles over the samples where defined
    a[:, 4] = np.nan
    a[:, 5] = 7.0
    a[:, 6] = rng.integers(0, 3, n)  # ties
    a[:, 7] = rng.choice([-0.0, 0.0, 1.0], n)  # zeros of both signs: the same one is picked
    q = np.asarray(quantiles, dtype=float)
    got = quantiles_by_row(np.ascontiguousarray(a.T), q)
    want = _numpy_quantiles(a, q)
    np.testing.assert_array_equal(got, want)
    ok = ~np.isnan(want)  # bit for bit, signs of zero included (NaN payloads aside)
    assert got[ok].tobytes() == want[ok].tobytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_block_quantiles_do_not_depend_on_the_block_size_nor_the_threads(workers):
    """Blocks of any size, in threads or not, give numpy's quantiles; the cells the reader
    reports constant (their first values) get them too, without being selected."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(257, 40))
    b = rng.lognormal(size=(257, 7))
    a[:, 3], a[:, 10], a[:, 11], b[:, 0] = 2.0, np.nan, -0.0, np.inf
    q = np.array([0.05, 0.5, 0.95])
    data = {"a": a, "b": b}
    blocks = set()

    def read(v, j0, j1, out):  # into the thread's reused block, as the store does
        cols = data[v][:, j0:j1].T
        bits = cols.view(np.uint64)
        vary = np.flatnonzero(~(bits == bits[:, :1]).all(axis=1))
        out[:vary.size] = cols[vary]
        blocks.add(out.base.ctypes.data)
        return vary, cols[:, 0].copy()

    for block_bytes in (1, 257 * 8 * 3, 2**30):
        blocks.clear()
        got = _summary._all_block_quantiles(read, {"a": 40, "b": 7}, 257, q, workers,
                                            block_bytes)
        for v, x in data.items():
            np.testing.assert_array_equal(got[v], _numpy_quantiles(x, q))
        assert len(blocks) <= workers  # one block per thread, whatever the number of blocks


@pytest.mark.parametrize("on_disk", [False, True])
def test_store_keeps_samples_last_and_reads_blocks_of_cells(tmp_path, on_disk):
    a = np.arange(7 * 3 * 2, dtype=float).reshape(7, 3, 2)
    with U._Store(7, {"a": (3, 2)}, on_disk=on_disk, tmpdir=tmp_path) as st:
        st.write(3, 7, {"a": a[3:]})  # chunks in any order, of any size
        st.write(0, 3, {"a": a[:3]})
        np.testing.assert_array_equal(st.read("a"), a)
        np.testing.assert_array_equal(st.read_columns("a", 1, 4), a.reshape(7, 6)[:, 1:4].T)
        block = np.full((3, 7), -1.0)
        assert st.read_columns("a", 1, 4, out=block) is block
        np.testing.assert_array_equal(block, a.reshape(7, 6)[:, 1:4].T)
        with pytest.raises(U.UncertaintyError, match=r"out must be C-contiguous float64 of "
                                                     r"shape \(3, 7\), got float64 \(3, 6\)"):
            st.read_columns("a", 1, 4, out=np.empty((3, 6)))
        with pytest.raises(U.UncertaintyError, match=r"chunk of 'a' has shape \(6, 2\), "
                                                     r"expected \(6, 1\)"):
            st.write(6, 7, {"a": a[:2]})
    assert list(tmp_path.iterdir()) == []


def test_store_on_disk_keeps_constant_cells_once_and_reads_them_back_bit_for_bit(tmp_path):
    """Cells with the same bits in every sample of a chunk are written once: the file holds
    fewer bytes, and every block of cells reads back the exact bits (NaN payloads, -0.0,
    infinities), whatever the chunks and blocks."""
    rng = np.random.default_rng(5)
    n, cells = 30, 40
    a = rng.normal(size=(n, cells))
    a[:, 0:5] = 0.0  # a run of constant cells at the start
    a[:, 9] = np.nan
    a[:, 10] = -0.0
    a[:, 11] = np.inf
    a[:, 12] = 0.0
    a[::7, 12] = -0.0  # equal values, different bits: stored in full
    a[:, 20:30] = 3.5
    a[6:, 25] = 4.0  # constant in the last chunk only
    a[:, 39] = -1.0  # constant at the end
    a[:, 36] = 1.0
    a[14, 36] = 2.0  # the chunk 13 .. 29: first, middle and last sample alike, not the rest
    a[:, 33] = np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), dtype=float)[0]
    spans = [(0, 12), (12, 13), (13, 30)]  # a chunk of one sample is stored whole
    with U._Store(n, {"a": (cells,)}, on_disk=True, tmpdir=tmp_path) as st:
        for start, stop in spans:
            st.write(start, stop, {"a": a[start:stop]})
        assert st.layouts[12]["a"] is None
        for start in (0, 13):
            varying = np.unpackbits(st.layouts[start]["a"], count=cells).astype(bool)
            assert not varying[[0, 4, 9, 10, 11, 20, 33, 39]].any() and varying[12]
            assert varying[25] == (start == 0)
            assert varying[36] == (start == 13)
        for j0, j1 in [(0, cells), (0, 1), (3, 11), (9, 13), (24, 26), (39, 40), (30, 40)]:
            got = st.read_columns("a", j0, j1)
            np.testing.assert_array_equal(got.view(np.uint64), a[:, j0:j1].T.view(np.uint64))
        np.testing.assert_array_equal(st.read("a").view(np.uint64), a.view(np.uint64))
    assert list(tmp_path.iterdir()) == []
    tile = np.ascontiguousarray(a[13:30].T)  # what the chunk 13 .. 29 wrote: 17 values a cell
    varying, parts = _storage._tile_layout(tile)
    assert sum(len(p) for p in parts) == 8 * (cells + 17 * int(varying.sum()))
    assert int(varying.sum()) == cells - 20  # 0-4, 9-11, 20-29, 33, 39 stored once (36 not)


def test_store_reads_only_the_cells_that_vary_over_the_ensemble(tmp_path):
    """``read_varying``: the cells with the same bits in every sample (as the chunks' layouts
    and first values show) are left out, the others packed in order, exact to the bit, with
    every cell's first value; every cell where a chunk was stored whole, or in memory."""
    rng = np.random.default_rng(6)
    n, cells = 30, 12
    a = rng.normal(size=(n, cells))
    a[:, 0:3] = 0.0
    a[:, 4] = np.nan
    a[:, 5] = -0.0
    a[:, 6] = np.where(np.arange(n) % 7 == 0, 0.0, -0.0)  # equal values, not the same bits
    a[:12, 7], a[12:, 7] = 1.0, 2.0  # constant in each chunk, not over the ensemble
    a[:, 9] = np.inf
    a[:, 10] = 5.0
    a[3, 10] = 6.0  # every chunk starts with 5.0, but the first varies
    a[:, 11] = 2.5
    constant = np.zeros(cells, dtype=bool)
    constant[[0, 1, 2, 4, 5, 9, 11]] = True
    for spans, on_disk, skips in [([(0, 12), (12, 30)], True, True),
                                  ([(0, 12), (12, 13), (13, 30)], True, False),
                                  ([(0, 1), (1, 30)], True, False),  # the first one whole
                                  ([(0, 12), (12, 30)], False, False)]:
        with U._Store(n, {"a": (cells,)}, on_disk=on_disk, tmpdir=tmp_path) as st:
            for start, stop in spans[::-1]:
                st.write(start, stop, {"a": a[start:stop]})
            for j0, j1 in [(0, cells), (1, 5), (6, 12), (9, 10)]:
                out = np.full((j1 - j0, n), -7.0)
                vary, first = st.read_varying("a", j0, j1, out)
                want = np.flatnonzero(~constant[j0:j1]) if skips else np.arange(j1 - j0)
                np.testing.assert_array_equal(vary, want)
                np.testing.assert_array_equal(out[:vary.size].view(np.uint64),
                                              a[:, j0:j1].T[vary].view(np.uint64))
                np.testing.assert_array_equal(first.view(np.uint64), a[0, j0:j1].view(np.uint64))
            with pytest.raises(U.UncertaintyError, match=r"read_varying: out must be C-contiguous "
                                                         r"float64 of shape \(2, 30\)"):
                st.read_varying("a", 0, 2, np.empty((2, n - 1)))


@pytest.mark.parametrize("n", [1, 2, 50, 10_000])
def test_quantiles_of_constant_cells_are_those_of_selecting_them(n):
    """The quantiles the summary gives a constant cell without selecting are those of its
    samples, bit for bit: finite, -0.0, infinities and NaN (with any payload)."""
    q = np.array([0.0, 0.05, 0.3, 0.5, 0.95, 1.0])
    payload = np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), dtype=float)[0]
    values = np.array([3.0, -0.0, 0.0, np.inf, -np.inf, np.nan, payload, 1e-300, -2.5])
    want = quantiles_by_row(np.repeat(values[:, None], n, axis=1), q)
    np.testing.assert_array_equal(_quantiles.constant_quantiles(values, q, n).view(np.uint64),
                                  want.view(np.uint64))


def test_parts_are_written_in_full_despite_short_writes(tmp_path, monkeypatch):
    """More parts than one ``pwritev`` takes, each call writing at most 7 bytes."""
    real = os.pwritev
    monkeypatch.setattr(os, "pwritev", lambda fd, bufs, offset: real(
        fd, [bytes(b"".join(bytes(x) for x in bufs)[:7])], offset))
    data = [memoryview(bytes([i % 251]) * (i % 5)) for i in range(3000)]
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        _storage._pwrite_all(fd, data, 3)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"\0" * 3 + b"".join(bytes(x) for x in data)


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_store_missing_samples_is_an_error(tmp_path, on_disk):
    with U._Store(4, {"a": (2,), "b": (1,)}, on_disk=on_disk, tmpdir=tmp_path) as st:
        st.write(0, 2, {"a": np.ones((2, 2)), "b": np.ones((2, 1))})
        with pytest.raises(U.UncertaintyError, match="holds 2 of 4 samples"):
            st.read_columns("a", 0, 2)
        st.write(2, 4, {"a": np.ones((2, 2))})  # a chunk without "b": not zeros, an error
        with pytest.raises(U.UncertaintyError, match=r"holds no 'b' for samples 2 \.\. 3"):
            st.read_columns("b", 0, 1)


def test_monte_carlo_quantiles_equal_numpy_on_the_full_ensemble(tmp_path):
    """The summary read from the store in blocks equals np.quantile of the whole ensemble
    (the method before issue 15), bit for bit, world totals and residual included."""
    params = apply_scenario(load_parameters(), "baseline")
    q = (0.0, 0.05, 0.5, 0.95, 1.0)
    kw = dict(seed=11, chunk=7, factors=FACTORS)
    ens = U.ensemble("neodymium", params, 23, **kw)
    old_block = _summary.BLOCK_BYTES
    try:
        _summary.BLOCK_BYTES = 23 * 8 * 5  # many small blocks
        mc = U.monte_carlo("neodymium", params, 23, scenario=None, quantiles=q, store="disk",
                           tmpdir=tmp_path, **kw)
    finally:
        _summary.BLOCK_BYTES = old_block
    qa = np.asarray(q)
    for v in ens.data_vars:
        if v == "factor_quantile":
            continue
        data = ens[v].transpose("sample", *mc[v].dims[1:]).values
        np.testing.assert_array_equal(mc[v].values, _numpy_quantiles(data.reshape(23, -1), qa)
                                      .reshape(mc[v].shape), err_msg=v)
    world = ens["primary_demand"].sum("region").transpose("sample", "time").values
    np.testing.assert_array_equal(mc["sample_world_primary_demand"].values, world)
    np.testing.assert_array_equal(mc["world_primary_demand"].values, np.quantile(world, qa, axis=0))
    kind = _scheduling._default_scheduler()
    assert mc.attrs["mc_scheduler"] == _scheduling._scheduler_label(
        kind, 2 if kind in ("fork", "pool") else None)
    assert mc.attrs["mc_max_abs_mass_balance_residual"] == float(
        np.nanmax(np.abs(ens["mass_balance_residual"].values)))


@pytest.mark.parametrize("distribution", ["triangular", "uniform"])
@pytest.mark.parametrize("partly_ranged", [False, True])
@pytest.mark.parametrize("repeated", [False, True])
def test_inverse_cdf_in_place_is_the_formula_bit_for_bit(distribution, partly_ranged, repeated):
    """The inverse CDF, computed once per distinct (value, low, high) and gathered, is the
    formula element by element, bit for bit: repeated rows, signed zeros, NaN included."""
    from mfa.analysis.uncertainty._sampling import _Range

    rng = np.random.default_rng(3)
    value = rng.uniform(1, 2, (4, 5))
    low, high = value - rng.uniform(0, 1, (4, 5)), value + rng.uniform(0, 1, (4, 5))
    if partly_ranged:
        low[0] = high[0] = value[0]
    if repeated:  # the same range over "years"; a value 0.0 / -0.0 with and without a range
        value, low, high = (np.repeat(a, 3, axis=1) for a in (value, low, high))
        value[1, :2], low[1, :2], high[1, :2] = [0.0, -0.0], [-1.0, -1.0], [1.0, 1.0]
        value[1, 2:6], low[1, 2:6], high[1, 2:6] = 0.5, [0.0, 0.25, 0.0, 0.0], [1.0, 1.0, 1.0, 2.0]
        value[2, :3], low[2, :3], high[2, :3] = [0.0, -0.0, np.nan], 0.0, 0.0
        value[3, 0], low[3, 0], high[3, 0] = np.nan, np.nan, np.nan
    u = rng.uniform(size=7)
    v, lo, hi = value[..., None], low[..., None], high[..., None]
    w = hi - lo
    with np.errstate(all="ignore"):
        if distribution == "triangular":
            x = np.where(u < (v - lo) / w, lo + np.sqrt(u * w * (v - lo)),
                         hi - np.sqrt((1.0 - u) * w * (hi - v)))
        else:
            x = lo + u * w
        want = np.where(w > 0, x, v)
    got = _Range(value, low, high).ppf(u, distribution)
    assert got.shape == want.shape and got.tobytes() == want.tobytes()


def test_the_factor_ranges_a_run_prepares_sample_as_the_parameter_set():
    """A run's chunks share the factors' ranges, prepared once (``_Payload.factor_ranges``):
    the values sampled are those from the ParameterSet, bit for bit; a factor whose values
    were replaced since is prepared again, not sampled from stale ranges."""
    from types import SimpleNamespace

    from mfa.analysis.uncertainty._sampling import draw_quantiles, sample_values

    params = apply_scenario(load_parameters(), "baseline")
    names = U.uncertain_parameters(params)
    payload = _scheduling._Payload(None, params, names, "triangular", 1, [], {}, True, 1e-9)
    u = draw_quantiles(5, names, 0, 6)
    want = sample_values(params, u, names)
    got = sample_values(payload, u, names)
    for name in names:
        np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
    name = "yield_mining"  # its mode moved, its range kept
    payload.values = payload.values.assign({name: payload.values[name] * 0.9})
    fresh = SimpleNamespace(values=payload.values, low=payload.low, high=payload.high,
                            registry=payload.registry)
    got = sample_values(payload, u, names)
    assert not np.array_equal(got[name].values, want[name].values)
    np.testing.assert_array_equal(got[name].values, sample_values(fresh, u, names)[name].values)


@pytest.mark.parametrize("cores, fork_ok, expected",
                         [(1, True, "numpy"), (2, True, "fork"), (64, True, "fork"),
                          (1, False, "numpy"), (2, False, "pool"), (64, False, "pool")])
def test_default_scheduler_is_two_workers_where_two_cores(monkeypatch, cores, fork_ok,
                                                          expected):
    """"auto": the plain loop on one core; from two cores on, however many there are, two
    forked processes where forking is safe, else two threads (two chunks in memory)."""
    monkeypatch.setattr(_scheduling, "_usable_cores", lambda: cores)
    monkeypatch.setattr(_scheduling, "fork_usable", lambda: None if fork_ok else "threads")
    assert _scheduling._default_scheduler() == expected
    with _scheduling._executor("auto") as (kind, handle):
        assert (kind, handle) == ((expected, 2) if expected != "numpy" else ("numpy", None))


@pytest.mark.parametrize("scheduler, label", [("auto", "threads (2, standard library)"),
                                               ("threads", "dask-threads")])
def test_threads_give_the_loops_numbers_and_restore_the_warning_filters(monkeypatch, scheduler,
                                                                        label):
    """Chunks on threads: the same quantiles as the plain loop, bit for bit; the model's
    warnings are silenced once around the threads and the filters are as before afterwards."""
    if scheduler == "threads":
        pytest.importorskip("dask")
    monkeypatch.setattr(_scheduling, "_usable_cores", lambda: 2)
    monkeypatch.setattr(_scheduling, "fork_usable", lambda: "no fork in this test")
    params = apply_scenario(load_parameters(), "baseline")
    kw = dict(seed=5, chunk=4, factors=FACTORS, scenario=None)
    filters = list(warnings.filters)
    threaded = U.monte_carlo("neodymium", params, 14, scheduler=scheduler, **kw)
    assert warnings.filters == filters
    loop = U.monte_carlo("neodymium", params, 14, scheduler="numpy", **kw)
    assert threaded.attrs["mc_scheduler"] == label
    for v in loop.data_vars:
        np.testing.assert_array_equal(threaded[v].values, loop[v].values, err_msg=v)


def test_a_failing_chunk_on_the_thread_pool_stops_the_run_and_leaves_no_file(monkeypatch,
                                                                             tmp_path):
    """An error in one chunk reaches the caller (the chunks not started are cancelled) and
    the temporary store is removed."""
    monkeypatch.setattr(_scheduling, "_usable_cores", lambda: 2)
    monkeypatch.setattr(_scheduling, "fork_usable", lambda: "no fork in this test")
    real = _scheduling._chunk_arrays
    started = []

    def failing(payload, start, stop, quiet=True):
        started.append(start)
        if start == 4:
            raise U.UncertaintyError("chunk 4 failed")
        return real(payload, start, stop, quiet)

    monkeypatch.setattr(_scheduling, "_chunk_arrays", failing)
    params = apply_scenario(load_parameters(), "baseline")
    with pytest.raises(U.UncertaintyError, match="chunk 4 failed"):
        U.monte_carlo("neodymium", params, 400, scenario=None, seed=1, chunk=4,
                      factors=FACTORS, store="disk", tmpdir=tmp_path)
    assert len(started) < 100  # cancelled, not all run
    assert list(tmp_path.iterdir()) == []


def test_the_default_chunk_bounds_the_results_of_a_chunk():
    """Not given (nor the model's ``mc_chunk``), a chunk holds about CHUNK_RESULT_BYTES of
    results: fewer samples for a longer horizon, 238 for the Nd baseline."""
    from mfa.analysis.options import CHUNK_RESULT_BYTES, default_chunk
    from mfa.analysis.uncertainty._ensemble import _chunk_size, _template
    from mfa.models import get

    assert default_chunk(CHUNK_RESULT_BYTES / 248.5) == 248
    assert default_chunk(CHUNK_RESULT_BYTES / 248.5, chunks_alive=1) == 496
    assert default_chunk(10.0**12) == 1

    class Model:
        pass

    model = Model()
    def results(years):
        return xr.Dataset({"a": (("time", "region"), np.zeros((years, 6))),
                           "b": ("time", np.zeros(years))})

    small, longer = results(71), results(121)
    per_sample = 8 * (71 * 6 + 71)
    assert _chunk_size(None, model, small, 10**9) == CHUNK_RESULT_BYTES // per_sample
    assert _chunk_size(None, model, longer, 10**9) < _chunk_size(None, model, small, 10**9)
    assert _chunk_size(None, model, small, 30) == 30  # at most n
    assert _chunk_size(5, model, small, 10**9) == 5
    model.mc_chunk = 7
    assert _chunk_size(None, model, small, 10**9) == 7
    nd = get("neodymium")
    _, results = _template(nd, apply_scenario(load_parameters(), "baseline"), ["total_demand"],
                           True)
    assert len(results.data_vars) > 1  # every result, not only the kept ones
    assert _chunk_size(None, nd, results, 10**9) == 238
    # the plain loop (and dask's sync) hold one chunk, not two: twice the default chunk, in
    # the same memory; a chunk that is given (or the model's) is kept
    from mfa.analysis.uncertainty._scheduling import chunks_alive

    assert [chunks_alive(s) for s in ("numpy", "NumPy", "sync", "synchronous", "fork",
                                      "threads", "processes", "tcp://host:8786")] == \
        [1, 1, 1, 1, 2, 2, 2, 2]
    assert _chunk_size(None, nd, results, 10**9, alive=1) == 476
    assert _chunk_size(None, model, small, 10**9, alive=1) == 7
    assert _chunk_size(5, Model(), small, 10**9, alive=1) == 5
    assert _chunk_size(None, Model(), small, 10**9, alive=1) == 2 * (CHUNK_RESULT_BYTES
                                                                      // per_sample)


def test_the_summary_runs_in_parallel_after_parallel_chunks_in_this_process():
    """Two threads of quantiles after forked workers, standard-library threads and dask
    threads; one after the plain loop, dask's sync scheduler and a cluster."""
    from mfa.analysis.uncertainty._scheduling import AUTO_WORKERS, _summary_workers

    assert [_summary_workers("fork", 2), _summary_workers("pool", 2),
            _summary_workers("local", "threads")] == [AUTO_WORKERS] * 3
    assert [_summary_workers("numpy", None), _summary_workers("local", "sync"),
            _summary_workers("distributed", object())] == [1, 1, 1]
