"""Files a run writes: rasters, GeoPackage layers, QGIS styles, figures and tables, written
into a staging folder and moved into place whole."""
