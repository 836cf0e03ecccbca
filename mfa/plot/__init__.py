"""Figures of any model's results (matplotlib; no display needed).

- :mod:`mfa.plot.style`: palettes (Okabe-Ito), one colour per scenario, captions, units in
  labels, ``plotted_data``;
- :mod:`mfa.plot.sankey`: a Sankey diagram drawn from the flows' ``source``/``target`` attrs,
  with an optional layout a model supplies (matplotlib and plotly);
- :mod:`mfa.plot.timeseries`: fan charts of Monte Carlo quantiles;
- :mod:`mfa.plot.uncertainty`: Sobol rankings and sets of fan charts.

Every figure function returns a figure made with pyplot (``plt.show()`` shows it; close it
with ``plt.close(fig)``), or draws into the Axes given as ``ax=`` and returns its figure. A
model's own figures live with the model (e.g. :mod:`mfa.models.neodymium.figures`).
"""

from mfa.plot.sankey import SankeyLayout, default_layout, sankey, sankey_html, sankey_values
from mfa.plot.style import OKABE_ITO, scenario_colour
from mfa.plot.timeseries import fan_chart

__all__ = ["OKABE_ITO", "SankeyLayout", "default_layout", "fan_chart", "sankey", "sankey_html",
           "sankey_values", "scenario_colour"]
