"""Open a remnant run folder in QGIS (PyQGIS, headless) and report what a user would see, as JSON.

Run with the Python that has QGIS's bindings (Debian: ``/usr/bin/python3`` with ``python3-qgis``),
never imported by the test suite itself: ``QT_QPA_PLATFORM=offscreen python3 qgis_check.py RUN_DIR PNG``.
It prints, for the project and for each file opened alone, whether each layer is valid and
which style QGIS found, and renders the project to ``PNG``.
"""

import json
import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

RENDER_SIZE = (800, 600)


def describe(layer):
    info = {"name": layer.name(), "valid": layer.isValid(), "crs": layer.crs().authid()}
    if isinstance(layer, QgsVectorLayer):
        renderer = layer.renderer()
        info["renderer"] = renderer.type() if renderer else None
        symbol = renderer.symbol() if renderer is not None and renderer.type() == "singleSymbol" else None
        if symbol is not None:
            info["fill"] = symbol.color().name(QColor.HexArgb)
            info["symbol_layer"] = symbol.symbolLayer(0).layerType()
        info["labels"] = bool(layer.labelsEnabled())
        info["features"] = layer.featureCount()
        info["geometry_column"] = layer.dataProvider().uri().param("geometrycolumn") if layer.dataProvider() else ""
    else:
        renderer = layer.renderer()
        info["renderer"] = renderer.type() if renderer else None
        if info["renderer"] == "paletted":
            info["classes"] = [{"value": int(c.value), "label": c.label, "colour": c.color.name()}
                               for c in renderer.classes()]
        if info["renderer"] == "singlebandpseudocolor":
            items = renderer.shader().rasterShaderFunction().colorRampItemList()
            info["ramp"] = [{"value": i.value, "alpha": i.color.alpha(), "label": i.label} for i in items]
        info["size"] = [layer.width(), layer.height()]
    return info


def main(folder: Path, png: Path) -> dict:
    report = {"version": QgsApplication.instance().applicationVersion() if QgsApplication.instance() else ""}
    project = QgsProject.instance()
    report["project_read"] = project.read(str(folder / "remnant.qgz"))
    root = project.layerTreeRoot()
    report["project_layers"] = []
    for node in root.findLayers():
        info = describe(node.layer())
        info["visible"] = node.isVisible()
        info["source"] = node.layer().source()
        report["project_layers"].append(info)
    settings = QgsMapSettings()
    settings.setLayers([node.layer() for node in root.findLayers() if node.isVisible()])
    settings.setDestinationCrs(project.crs())
    settings.setOutputSize(QSize(*RENDER_SIZE))
    settings.setBackgroundColor(QColor("white"))
    settings.setExtent(settings.fullExtent())
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    report["render_saved"] = image.save(str(png), "PNG")
    report["render_size"] = [image.width(), image.height()]
    report["render_errors"] = [e.message for e in job.errors()]
    project.clear()
    alone = {}
    for name in ("landuse.tif", "p_contaminated.tif", "density.tif"):
        layer = QgsRasterLayer(str(folder / name), name, "gdal")
        alone[name] = describe(layer)
    for name in ("hazard_areas", "suspected_areas", "strikes"):
        layer = QgsVectorLayer(f"{folder / 'hazard_areas.gpkg'}|layername={name}", name, "ogr")
        message, found = layer.loadDefaultStyle()
        alone[name] = describe(layer) | {"default_style_found": bool(found), "style_message": message}
    report["alone"] = alone
    return report


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    try:
        print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
    finally:
        app.exitQgis()
