"""Reports for people: utilization tables, CSV/JSON and heatmaps, from the read model."""
