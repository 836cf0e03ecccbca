"""A seeded Monte Carlo of the baseline gives exactly the numbers of the reference code.

Changes made only for speed (issue 15 and after: the supply chain, the counterfactual, the
stock models) must leave every quantile of a seeded ensemble the same bit for bit. The
SHA-256 digests of each summary variable were written by the code before those changes
(``python tests/test_mc_seeded.py --write`` rewrites them: only for a change that is meant to
change the model's results, as for the regression snapshots of ``test_regression.py``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

DIGESTS = Path(__file__).parent / "data" / "mc_seeded_digests.json"
#: 13 samples in chunks of 5 (an uneven last chunk), all result variables, a threshold
OPTIONS = {"n": 13, "seed": 20261201, "chunk": 5, "thresholds": [1.0e5]}


def _digests() -> dict[str, str]:
    from mfa.analysis import uncertainty as U
    from mfa.models import get

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc = U.monte_carlo(get("neodymium"), None, scenario="baseline", scheduler="numpy",
                           store="memory", **OPTIONS)
    out = {}
    for name in sorted(mc.data_vars):
        a = np.ascontiguousarray(mc[name].values)
        if a.dtype.kind in "fiub":
            out[name] = hashlib.sha256(a.tobytes() + repr(a.shape).encode()).hexdigest()
    return out


def test_seeded_monte_carlo_is_bit_identical_to_the_reference():
    expected = json.loads(DIGESTS.read_text())
    got = _digests()
    assert sorted(got) == sorted(expected), "the summary's variables changed"
    differ = [name for name in expected if got[name] != expected[name]]
    assert not differ, f"seeded Monte Carlo results changed in {differ}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_mc_seeded.py --write")
    DIGESTS.write_text(json.dumps(_digests(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}")
