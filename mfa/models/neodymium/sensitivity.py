"""Default groups of the Nd parameters for grouped Sobol indices (``mfa sensitivity --groups model``).

Twenty-odd uncertain parameters make a bar chart nobody reads, and several of them act together
(the magnet mass per vehicle and per MW and the Nd share of the magnet are one "magnet
intensity"). :func:`mfa.analysis.uncertainty.sensitivity` with ``groups="model"`` takes the
groups of :func:`sensitivity_groups`, built from the rules :data:`SENSITIVITY_GROUPS` (first
match wins). A parameter that no rule matches (e.g. a new uncertain parameter) becomes a group
of its own, under its own name: nothing is dropped silently. The grouping is an assumption of
this package (which parameters describe one driver), not data from a source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["SENSITIVITY_GROUPS", "group_of", "sensitivity_groups"]

#: Groups of parameters, in order of precedence (first match wins): group name and a test on
#: the parameter name.
SENSITIVITY_GROUPS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("recycling", lambda n: any(k in n for k in ("recycl", "collection", "scrap_trade",
                                                  "new_scrap"))),
    ("lifetimes", lambda n: "lifetime" in n or "hibernation" in n or "retire" in n),
    ("EV and wind deployment", lambda n: n.startswith(("ev_", "wind_")) or "fleet" in n
     or n in ("installed_capacity", "wind_capacity")),
    ("motor and generator technology", lambda n: n == "pm_share"),
    ("magnet intensity", lambda n: n.startswith("magnet_per_") or n == "nd_share_in_magnet"),
    ("other end uses", lambda n: n.startswith(("end_use_", "use_region_share"))),
    ("supply-chain yields and losses", lambda n: n.startswith("yield_")
     or n in ("magnet_scrap_rate", "undocumented_mining_share")),
)


def group_of(name: str) -> str:
    """The sensitivity group of the parameter ``name``.

    Parameters
    ----------
    name : str
        A parameter name (``params/registry.toml``).

    Returns
    -------
    str
        The first group of :data:`SENSITIVITY_GROUPS` whose rule matches, else ``name``
        itself (a group of its own).
    """
    for group, test in SENSITIVITY_GROUPS:
        if test(name):
            return group
    return name


def sensitivity_groups(names: Sequence[str]) -> dict[str, list[str]]:
    """Group name -> parameters for the uncertain parameters ``names``.

    Parameters
    ----------
    names : sequence of str
        The factors of the sensitivity analysis (uncertain parameters).

    Returns
    -------
    dict of str to list of str
        Every name in exactly one group (:func:`group_of`); groups in the order of their
        first member in ``names``, members in the order of ``names``.
    """
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(group_of(n), []).append(n)
    return out
