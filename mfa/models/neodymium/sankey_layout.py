"""The look of the neodymium Sankey diagram (a :class:`mfa.plot.sankey.SankeyLayout`).

The chain runs left to right: mining, separation, oxide (the output side of separation, where
primary and secondary oxide meet), metal & alloy, magnet making, manufacturing, use, end of
life. New scrap and collected end-of-life Nd run back below it, through recycling, into the
oxide node as secondary oxide. Everything else (losses rising into one sink, the net addition
to the in-use stock, net import/export stubs of one region, the pooled ``trade`` process not
drawn, and the pooled ``scrap_trade`` process of scrap sent to recycling in another region,
drawn for one region as scrap import/export stubs at the recycling node; scrap stored while
recycling capacity is full is the stock of the recycling node) comes from the generic diagram.
"""

from __future__ import annotations

from mfa.plot.sankey import DisplayFlow, NodeStyle, SankeyLayout

__all__ = ["LAYOUT"]

#: Layout of the Nd results of :func:`mfa.models.neodymium.simulate` for :func:`mfa.plot.sankey.sankey`.
LAYOUT = SankeyLayout(
    nodes={
        "mining": NodeStyle("Mining", 0),
        "separation": NodeStyle("Separation", 1),
        "oxide": NodeStyle("Oxide", 2),
        "metal": NodeStyle("Metal & alloy", 3),
        "magnet": NodeStyle("Magnet making", 4),
        "manufacturing": NodeStyle("Manufacturing", 5),
        "use": NodeStyle("In use", 6),
        "collection": NodeStyle("End of life", 7),
        "recycling": NodeStyle("Recycling", 3.25, loop=True),
    },
    flows={
        # The oxide node is the output side of separation: primary oxide enters it from
        # separation, secondary oxide from recycling; the oxide leaves from it.
        "flow_primary_oxide": DisplayFlow(
            "separation", "oxide", {"flow_concentrate": 1.0, "flow_separation_losses": -1.0}),
        "flow_secondary_oxide": DisplayFlow(
            "recycling", "oxide", {"flow_recycled_new_scrap": 1.0, "flow_recycled_eol": 1.0}),
        "flow_oxide_to_metal": DisplayFlow("oxide", "metal"),
        "flow_oxide_to_manufacturing": DisplayFlow("oxide", "manufacturing"),
        "flow_stockpile": DisplayFlow("oxide", "environment"),
        "flow_net_export_oxide": DisplayFlow("oxide", "trade"),
    },
    hide=("flow_recycled_new_scrap", "flow_recycled_eol"),
    loop=("flow_new_scrap", "flow_collected", "flow_secondary_oxide"),
    labels={
        "flow_mined": "mined (documented)",
        "flow_mined_undocumented": "mined (undocumented)",
        "flow_mining_losses": "mining losses",
        "flow_separation_losses": "separation losses",
        "flow_metal_losses": "metal losses",
        "flow_eol_losses": "not collected",
        "flow_recycling_losses": "recycling losses",
        "flow_new_scrap_losses": "new scrap not recycled",
        "flow_oxide_to_manufacturing": "to non-magnet uses",
        "flow_new_scrap": "new scrap",
        "flow_collected": "collected end-of-life",
        "flow_secondary_oxide": "secondary oxide",
        "flow_scrap_export": "scrap recycled abroad",
        "flow_scrap_import": "scrap from abroad",
    },
    stubs={"flow_stockpile": "stockpiled"},
    # The results of run() lose the stock's attrs["process"] in a merge: say it here.
    stocks={"in_use_stock": "use", "hibernating_stock": "use",
            "scrap_awaiting_recycling": "recycling"},
    stock_labels={"use": "Added to stock", "recycling": "Scrap stored"},
    material="Nd",
    title="Neodymium flows, {where}, {year} [{unit} of {material}]",
    legend={"main": "blue: primary chain", "loop": "green: recycling loop",
            "loss": "grey: losses", "input": "orange arrow: Nd mined",
            "stock": "orange: net addition to the in-use stock",
            "stub": "orange stub: surplus secondary Nd stockpiled",
            "trade": "purple: net trade of the region"},
)
