"""Data reconciliation: best estimates of flows from conflicting measurements.

Historical data on a material cycle come from many sources (production statistics, trade
data, surveys, expert estimates) and rarely satisfy the mass balance of every process.
:func:`reconcile` finds the values that satisfy every balance while moving each measurement
as little as its uncertainty allows: weighted least squares under linear equality
constraints, as in the MFA software STAN (Cencic & Rechberger 2008) and in process data
reconciliation (Narasimhan & Jordache 2000, ch. 3). It also says which unknowns the data
determine, whether the data agree with the balances (chi-square test) and which
measurements conflict most (normalised residuals).

The problem, for one year and one cell of the other dims (e.g. one region)
--------------------------------------------------------------------------
``x`` holds every flow and every stock change of a :class:`~mfa.core.system.ProcessSystem`
[t/yr]. Each balanced process ``p`` gives one linear constraint, the balance of
:mod:`mfa.core.system`; boundary processes give none::

    (A x)_p = sum(flows into p) - sum(flows out of p) - sum(stock changes in p) = 0

Some variables are measured: values ``y`` with standard deviations ``sd``, taken as
independent normal errors, ``S = diag(sd**2)``. The others, ``z``, are unknown. With
``A x = A_y y + A_z z``, the estimate minimises ``(y - y_hat)' S^-1 (y - y_hat)`` subject to
``A_y y_hat + A_z z_hat = 0``. The unknowns are eliminated by projection (Crowe et al. 1983):
the rows of ``P`` span the left null space of ``A_z`` (``P A_z = 0``, from an SVD), and
``B`` is an orthonormal basis of the rows of ``P A_y``: the constraints on the measurements
alone. Then::

    y_hat   = y - S B' (B S B')^-1 B y            reconciled measurements
    V       = S B' (B S B')^-1 B S                covariance of the adjustments y - y_hat
    cov     = S - V                               covariance of y_hat
    z_hat   = -pinv(A_z) A_y y_hat                unknowns, covariance G cov G', G = pinv(A_z) A_y
    chi2    = (B y)' (B S B')^-1 (B y),  dof = rank(B),  p = P(chi2_dof > chi2)
    r_i     = (y_i - y_hat_i) / sqrt(V_ii)        normalised residual (measurement test)

Classification (Narasimhan & Jordache 2000, ch. 3): an unknown is *observable* when the
balances and the measurements determine it (it is orthogonal to the null space of ``A_z``);
unobservable unknowns are reported as NaN, never invented. A measurement is *redundant* when
the balances and the other measurements also determine it (its column of ``B`` is not zero);
only redundant measurements are adjusted. A measurement that is not redundant is kept as
given, with its own standard deviation. ``dof`` is the number of independent checks.

Consistency and gross errors
----------------------------
Without gross errors ``chi2`` follows a chi-square distribution with ``dof`` degrees of
freedom: the data are flagged inconsistent when ``p < alpha`` (the global test). Each
normalised residual is standard normal; a measurement is flagged *suspect* when ``|r_i|``
exceeds the two-sided critical value at the Sidak-corrected level
``1 - (1 - alpha)**(1/n)`` over the ``n`` redundant measurements of the cell (the measurement
test with the correction of Mah & Tamhane 1982, as in Narasimhan & Jordache 2000, ch. 7).
The measurement with the largest ``|r_i|`` is the most likely single gross error. Measurements
that enter the balances only together (e.g. two flows in series through one process) have
equal ``|r_i|``: the data cannot tell them apart.

What STAN does, and what this module does not
---------------------------------------------
STAN (www.stan2web.net) reconciles the flows, stocks and transfer coefficients of one period
by the same weighted least squares; with concentrations and transfer coefficients the
constraints are nonlinear and STAN iterates on a linearisation (Cencic 2016). Here the
constraints are the linear mass balances only, solved exactly in one step; measurement
errors are independent (no covariances between measurements) and normal, and values are not
bounded below: a reconciled flow below zero is reported (or raised), never clipped.

Data layout
-----------
Every flow and stock of the system must have the same dims: ``time`` plus *batch dims*
(e.g. ``region``, ``sample``) whose cells are reconciled independently. A stock's entry is
its **change per year** [mass/time], not its level. Years (and cells) with a NaN
measurement treat that variable as unmeasured. All cells with the same measurement pattern
are solved in one batched numpy call; there is no loop over years.

References
----------
- Cencic, O., Rechberger, H. (2008). Material flow analysis with software STAN.
  Journal of Environmental Engineering and Management 18(1), 3-7.
- Cencic, O. (2016). Nonlinear data reconciliation in material flow analysis with software
  STAN. Sustainable Environment Research 26(6), 291-298.
- Crowe, C. M., Garcia Campos, Y. A., Hrymak, A. (1983). Reconciliation of process flow
  rates by matrix projection. Part I: linear case. AIChE Journal 29(6), 881-888.
- Mah, R. S. H., Tamhane, A. C. (1982). Detection of gross errors in process data.
  AIChE Journal 28(5), 828-830.
- Narasimhan, S., Jordache, C. (2000). Data Reconciliation and Gross Error Detection: An
  Intelligent Use of Process Data. Gulf Publishing, Houston.
"""

from __future__ import annotations

from mfa.analysis.reconcile._estimate import reconcile
from mfa.analysis.reconcile._inputs import FLOW_UNIT as FLOW_UNIT
from mfa.analysis.reconcile._result import Reconciliation

__all__ = [
    "Reconciliation",
    "reconcile",
]
