"""Process systems: processes, flows between them, stocks, and the mass-balance check.

This is the end of the generic core: it knows nothing about neodymium. A model declares its
processes, the flows between them (each with its dims) and the stocks held in processes, then
hands the computed values to :meth:`ProcessSystem.to_dataset`, which checks names, dims and
units, converts everything to the model units (flows in ``t/yr``, stocks in ``t``) and adds
the mass-balance residual of every process.

Mass balance
------------
For every process ``p`` that is not on the system boundary, year ``t`` and (where resolved)
region ``r``::

    residual[t, p, r] = sum(flows into p) - sum(flows out of p) - (stock[t] - stock[t-1])

summed over all stocks of ``p``. For the first model year the stock change is
``stock[t0] - initial_stock`` where ``initial_stock`` is 0 unless given
(``initial_stocks=`` argument). Years must therefore be consecutive when there are stocks.

The check (:meth:`ProcessSystem.check_balance`) compares each residual with
``atol + rtol * throughput``, where the *throughput* of a process is
``max(inputs + stock release, outputs + stock addition)`` and a negative flow counts on the
other side (a negative outflow is an inflow). For a process balanced over all regions (below)
the throughput is taken from the regional flows before they are summed: a trade pool that
receives every region's net exports has a residual near 0 because the net exports cancel, and
its scale is the gross trade (total exports), not their sum (0).

Flows are never negative, except flows declared ``signed=True`` (e.g. a region's net export
to a trade pool, negative for a net importer): the check also rejects any other flow below
``-(atol + rtol * throughput)`` of its source and target processes.

A process is *balanced by region* when every flow and stock touching it has a ``region`` dim;
its residual keeps ``time`` and ``region``. Otherwise (e.g. global trade, a world market) its
residual is computed for the sum over all regions. All other dims (product, source, ...) are
summed. Boundary processes (by default ``"environment"``) are sources and sinks of the system
and are not balanced.

Example
-------
>>> import numpy as np, xarray as xr
>>> from mfa.core.system import Flow, Stock, ProcessSystem
>>> system = ProcessSystem(
...     "toy",
...     processes=["use"],
...     flows=[Flow("inflow", "environment", "use", ("time",)),
...            Flow("outflow", "use", "environment", ("time",))],
...     stocks=[Stock("in_use", "use", ("time",))],
... )
>>> t = {"time": [2000, 2001]}
>>> ds = system.to_dataset({
...     "inflow": xr.DataArray([3.0, 3.0], coords=t, dims="time", attrs={"units": "t/yr"}),
...     "outflow": xr.DataArray([1.0, 2.0], coords=t, dims="time", attrs={"units": "t/yr"}),
...     "in_use": xr.DataArray([2.0, 3.0], coords=t, dims="time", attrs={"units": "t"}),
... })
>>> float(abs(ds["mass_balance_residual"]).max())
0.0
"""

from __future__ import annotations

from mfa.core.system import _parts
from mfa.core.system._parts import FLOW_UNIT as FLOW_UNIT
from mfa.core.system._parts import STOCK_UNIT as STOCK_UNIT
from mfa.core.system._parts import (
    Flow,
    Stock,
)
from mfa.core.system._process_system import ProcessSystem

#: Dataset variable: residual per (time, process[, region]) [t/yr].
RESIDUAL = _parts.RESIDUAL

#: Dataset variable: residual per (time, process), summed over regions [t/yr].
RESIDUAL_TOTAL = _parts.RESIDUAL_TOTAL

#: Dataset variable: process throughput per (time, process[, region]) [t/yr].
THROUGHPUT = _parts.THROUGHPUT

#: Dataset variable: process throughput per (time, process), summed over regions [t/yr].
THROUGHPUT_TOTAL = _parts.THROUGHPUT_TOTAL

__all__ = [
    "RESIDUAL",
    "RESIDUAL_TOTAL",
    "THROUGHPUT",
    "THROUGHPUT_TOTAL",
    "Flow",
    "ProcessSystem",
    "Stock",
]
