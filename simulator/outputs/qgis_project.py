"""``remnant.qgz``: a QGIS project that opens every output layer styled, in reading order; and the
QGIS-only parts of a run folder it needs (the SHA layer, the strikes' and P(contaminated)'s styles).

The ``.qgs`` XML is written here (no QGIS needed to make it) and zipped as QGIS does: one
``remnant.qgs`` inside ``remnant.qgz``. Data sources are relative (``./landuse.tif``), so the
run folder can be moved or copied whole. Each layer carries its style inside the project (the
same QML the sidecars and the GeoPackage's ``layer_styles`` hold), so a copy without the
sidecars still opens styled. The zip's timestamps are fixed, so the same run gives the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pyproj import CRS

from simulator.inputs.grid import Grid
from simulator.outputs import styles
from simulator.outputs.styles import QGIS_VERSION
from simulator.results.polygons import hazard_polygons
from simulator.results.result import Result

PROJECT_FILE = "remnant.qgz"

ZIP_TIME = (2000, 1, 1, 0, 0, 0)
"""The date stamped on the zip members: a constant, so reruns give identical files."""


@dataclass(frozen=True)
class Layer:
    """One project layer: ``source`` relative to the project (``file`` or ``file|layername=x``)."""

    name: str
    source: str
    qml: str
    geometry: str | None = None
    """None for a raster; 'Point' or 'Polygon' for a vector layer."""
    visible: bool = True

    @property
    def id(self) -> str:
        return "remnant_" + "".join(c if c.isalnum() else "_" for c in self.name)


def write_qgis_files(result: Result, folder: Path) -> Path:
    """In ``folder`` (holding the run's rasters, their .qml and hazard_areas.gpkg): the styles of
    P(contaminated) and of the strikes, layer ``suspected_areas`` (SHA polygons: ``hazard_polygons``
    at ``hazard.suspect_threshold``, same columns as CHA) with its style, and ``remnant.qgz``
    showing strikes, CHA, SHA, P(contaminated) (off), density and land use, top first."""
    hazard = result.setup.scenario.hazard
    setup = result.setup
    p_qml = styles.p_contaminated_qml(hazard.suspect_threshold, hazard.threshold)
    (folder / "p_contaminated.qml").write_text(p_qml, encoding="utf-8")
    gpkg = folder / "hazard_areas.gpkg"
    styles.store_in_geopackage(gpkg, "strikes", styles.strikes_qml(), "remnant strike aim points")
    sha = hazard_polygons(result.grid, result.p_contaminated, result.mean_count, setup.landuse_codes, setup.class_keys,
                          hazard.suspect_threshold, hazard.reference_distance_m, hazard.min_area_m2)
    sha.to_file(gpkg, layer="suspected_areas", driver="GPKG")
    sha_qml = styles.hazard_qml(hazard.suspect_threshold, suspected=True)
    styles.store_in_geopackage(gpkg, "suspected_areas", sha_qml, "remnant suspected hazardous areas (SHA)")
    source = "./hazard_areas.gpkg|layername="
    layers = [
        Layer("strike aim points", source + "strikes", styles.strikes_qml(), "Point"),
        Layer("CHA", source + "hazard_areas", (folder / "hazard_areas.qml").read_text(encoding="utf-8"), "Polygon"),
        Layer("SHA", source + "suspected_areas", sha_qml, "Polygon"),
        Layer("P(contaminated)", "./p_contaminated.tif", p_qml, visible=False),
        Layer("expected remnants per ha", "./density.tif", (folder / "density.qml").read_text(encoding="utf-8")),
        Layer("land use", "./landuse.tif", (folder / "landuse.qml").read_text(encoding="utf-8")),
    ]
    return write_project(folder, result.grid, setup.scenario.name, layers)


def write_project(folder: Path, grid: Grid, title: str, layers: list[Layer]) -> Path:
    """Write ``folder``/remnant.qgz showing ``layers`` (top of the map first) on ``grid``'s CRS and extent."""
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = title
    ET.SubElement(ET.SubElement(root, "projectCrs"), "spatialrefsys").extend(_srs(grid.crs))
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for layer in layers:
        ET.SubElement(tree, "layer-tree-layer", {
            "id": layer.id, "name": layer.name, "source": layer.source, "providerKey": _provider(layer),
            "checked": "Qt::Checked" if layer.visible else "Qt::Unchecked", "expanded": "1",
        })
    ET.SubElement(tree, "custom-order", {"enabled": "0"}).extend(_ids("item", layers))
    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "meters"
    canvas.append(_extent("extent", grid))
    ET.SubElement(canvas, "rotation").text = "0"
    ET.SubElement(ET.SubElement(canvas, "destinationsrs"), "spatialrefsys").extend(_srs(grid.crs))
    ET.SubElement(root, "projectlayers").extend(_map_layer(layer, grid) for layer in layers)
    ET.SubElement(root, "layerorder").extend(_ids("layer", layers))
    properties = ET.SubElement(root, "properties")
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    ET.SubElement(ET.SubElement(properties, "Measure"), "Ellipsoid", {"type": "QString"}).text = "NONE"
    ET.indent(root)
    text = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")
    path = folder / PROJECT_FILE
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("remnant.qgs", ZIP_TIME), text.encode("utf-8"),
                         compress_type=zipfile.ZIP_DEFLATED)
    return path


def _provider(layer: Layer) -> str:
    return "gdal" if layer.geometry is None else "ogr"


def _ids(tag: str, layers: list[Layer]) -> list[ET.Element]:
    """``<item>id</item>`` (a layer tree's custom order) or ``<layer id="id"/>`` (the layer order) per layer."""
    elements = []
    for layer in layers:
        element = ET.Element(tag) if tag == "item" else ET.Element(tag, {"id": layer.id})
        if tag == "item":
            element.text = layer.id
        elements.append(element)
    return elements


def _srs(crs: str) -> list[ET.Element]:
    """The children of a QGIS ``spatialrefsys``: WKT first (QGIS reads it before anything else)."""
    parsed = CRS.from_user_input(crs)
    authority = parsed.to_authority()
    values = {
        "wkt": parsed.to_wkt(),
        "proj4": "",  # QGIS reads the WKT; a PROJ string would lose information
        "srsid": "0",
        "srid": authority[1] if authority and authority[0] == "EPSG" else "0",
        "authid": ":".join(authority) if authority else "",
        "description": parsed.name,
        "projectionacronym": "",
        "ellipsoidacronym": "",
        "geographicflag": "true" if parsed.is_geographic else "false",
    }
    elements = []
    for tag, value in values.items():
        element = ET.Element(tag)
        element.text = value
        elements.append(element)
    return elements


def _extent(tag: str, grid: Grid) -> ET.Element:
    xmin, ymin, xmax, ymax = grid.bounds
    extent = ET.Element(tag)
    for name, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
        ET.SubElement(extent, name).text = repr(float(value))
    return extent


def _map_layer(layer: Layer, grid: Grid) -> ET.Element:
    """A ``maplayer``: source, CRS and the style (the QML's elements, as QGIS embeds them)."""
    if layer.geometry is None:
        element = ET.Element("maplayer", {"type": "raster", "refreshOnNotifyEnabled": "0", "autoRefreshEnabled": "0"})
    else:
        element = ET.Element("maplayer", {"type": "vector", "geometry": layer.geometry,
                                          "wkbType": "MultiPolygon" if layer.geometry == "Polygon" else "Point",
                                          "refreshOnNotifyEnabled": "0", "autoRefreshEnabled": "0"})
    element.append(_extent("extent", grid))
    ET.SubElement(element, "id").text = layer.id
    ET.SubElement(element, "datasource").text = layer.source
    ET.SubElement(element, "layername").text = layer.name
    ET.SubElement(ET.SubElement(element, "srs"), "spatialrefsys").extend(_srs(grid.crs))
    ET.SubElement(element, "provider", {"encoding": "UTF-8"}).text = _provider(layer)
    style = ET.fromstring(layer.qml)
    element.extend(child for child in style if child.tag != "layerGeometryType")
    return element
