"""What a run computes from its ensemble and land release: tables, hazard polygons, the
summary and the run's identity."""
