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

from collections.abc import Sequence

__all__ = ["SENSITIVITY_GROUPS", "group_of", "sensitivity_groups"]

SENSITIVITY_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "recycling": {"contains": ("recycl", "collection", "scrap_trade", "new_scrap")},
    "lifetimes": {"contains": ("lifetime", "hibernation", "retire")},
    "EV and wind deployment": {"prefix": ("ev_", "wind_"), "contains": ("fleet",),
                               "names": ("installed_capacity", "wind_capacity")},
    "motor and generator technology": {"names": ("pm_share",)},
    "magnet intensity": {"prefix": ("magnet_per_",), "names": ("nd_share_in_magnet",)},
    "other end uses": {"prefix": ("end_use_", "use_region_share")},
    "supply-chain yields and losses": {"prefix": ("yield_",),
                                       "names": ("magnet_scrap_rate",
                                                 "undocumented_mining_share")},
}
"""The grouping rules, tried in this order, the first match wins. Each group gives ``prefix``
(the parameter name starts with one of these), ``contains`` (the name contains one of these)
or ``names`` (the name is one of these)."""


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
    for group, rule in SENSITIVITY_GROUPS.items():
        if (name.startswith(rule.get("prefix", ())) or name in rule.get("names", ())
                or any(k in name for k in rule.get("contains", ()))):
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
