"""One read model: utilization, recommendations, heatmap and portfolio from the store's rollups.

Steps, one module each: ``window`` (the window widened to bins, split into weeks, days and
edges), ``totals`` (each space's sums over it, read from week, day and bin rows),
``figures`` (time used, occupancy, utilization, bands), ``utilization`` (a site's report),
``recommend``, ``heatmap`` and ``portfolio``; ``queries.ReadModel`` is what callers hold.
"""
