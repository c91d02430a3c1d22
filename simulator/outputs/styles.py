"""QGIS styles, so outputs open styled: ``.qml`` sidecars, the GeoPackage's ``layer_styles`` table
and the layers of ``remnant.qgz`` (``simulator.outputs.qgis_project``).

QGIS loads ``name.qml`` beside ``name.tif`` automatically, and a GeoPackage layer's default
style from its ``layer_styles`` table (the row names the layer's geometry column as
``gpkg_geometry_columns`` has it). Hazard colours follow IMAS / IMSMA symbology: CHA fill
#FF0000 and SHA fill #F4A718, both 50 % transparent (IMSMA wiki, Symbology; Technical Note
07.11/01-2016). Every string put into a style goes through ``safe.xml_attr``, and into the
GeoPackage as an SQL parameter, never by string formatting.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb

from simulator.outputs.safe import xml_attr

QGIS_VERSION = "3.22.16-Bialowieza"
"""The QGIS release the styles and the project are checked against (older releases read them too)."""

CHA_COLOUR, SHA_COLOUR = "#ff0000", "#f4a718"
"""IMAS / IMSMA hazard fills (IMSMA wiki, Symbology; Technical Note 07.11/01-2016)."""

HAZARD_ALPHA = 128
"""50 % transparent fills, as the symbology asks (0-255)."""

DENSITY_RAMP = LinearSegmentedColormap.from_list("remnant_density", colormaps["Purples"](np.linspace(0.6, 1.0, 64)))
"""Remnant density, mid to dark purple: its lowest colour is unlike the yellows, greens, pinks,
greys and blues of land use (as the map draws them, at ``plots.LAND_USE_ALPHA``), and red (CHA)
and orange (SHA) outlines stand out on all of it."""

HEADER = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def _qml(body: str, categories: str, geometry_type: int) -> str:
    return (f'{HEADER}\n<qgis version={xml_attr(QGIS_VERSION)} styleCategories="{categories}">\n{body}\n'
            f"  <layerGeometryType>{geometry_type}</layerGeometryType>\n</qgis>\n")


def _rgba(colour: str, alpha: int = 255) -> str:
    r, g, b = (round(255 * c) for c in to_rgb(colour))
    return f"{r},{g},{b},{alpha}"


def _pseudocolour(items: list[str], top: float, opacity: float, kind: str = "DISCRETE") -> str:
    return f"""  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="{opacity:g}" alphaBand="-1"
                    classificationMin="0" classificationMax="{top:g}">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="{kind}" classificationMode="3" clip="0" labelPrecision="3">
          {''.join(items)}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
  </pipe>"""


def _item(value: float, colour: str, label: str, alpha: int = 255) -> str:
    return f'<item alpha="{alpha}" value="{value:.10g}" label={xml_attr(label)} color="{colour}"/>'


def density_qml(density: np.ndarray, label: str = "expected remnants per hectare") -> str:
    """A pseudocolour style for the density raster: zero transparent, classes at data quantiles."""
    positive = density[density > 0]
    top = float(positive.max()) if positive.size else 1.0
    breaks = np.unique(np.round(np.quantile(positive, [0.2, 0.4, 0.6, 0.8, 0.95]) if positive.size else [], 3))
    values = [*breaks[breaks < top], top]
    items = [_item(0, "#ffffff", "0", alpha=0)]
    items += [_item(v, to_hex(DENSITY_RAMP(i / max(len(values) - 1, 1))), f"<= {v:g} {label}")
              for i, v in enumerate(values)]
    return _qml(_pseudocolour(items, top, 0.85), "Symbology", -1)


def p_contaminated_qml(suspect_threshold: float, threshold: float) -> str:
    """P(contaminated): transparent at 0, light below the SHA threshold, SHA orange, CHA red."""
    items = [
        _item(0, "#ffffff", "0", alpha=0),
        _item(np.nextafter(suspect_threshold, 0), "#fff3c4", f"0 < p < {suspect_threshold:g}", alpha=160),
        _item(np.nextafter(threshold, 0), SHA_COLOUR, f"SHA: {suspect_threshold:g} <= p < {threshold:g}"),
        _item(1.0, CHA_COLOUR, f"CHA: p >= {threshold:g}"),
    ]
    return _qml(_pseudocolour(items, 1.0, 0.7), "Symbology", -1)


def landuse_qml(classes: list[tuple[str, str]]) -> str:
    """A paletted style for the land-use raster: code ``i + 1`` drawn in ``classes[i]``'s (name, '#rrggbb')."""
    entries = "".join(f'<paletteEntry value="{i + 1}" alpha="255" color={xml_attr(colour)} label={xml_attr(name)}/>'
                      for i, (name, colour) in enumerate(classes))
    body = f"""  <pipe>
    <rasterrenderer type="paletted" band="1" opacity="0.6" alphaBand="-1">
      <rasterTransparency/>
      <colorPalette>{entries}</colorPalette>
    </rasterrenderer>
  </pipe>"""
    return _qml(body, "Symbology", -1)


def _options(values: dict[str, str]) -> str:
    """A symbol layer's properties, both as QGIS 3.22+ writes them (``Option``) and as older releases read them."""
    options = "".join(f'<Option name="{k}" type="QString" value={xml_attr(v)}/>' for k, v in values.items())
    props = "".join(f'<prop k="{k}" v={xml_attr(v)}/>' for k, v in values.items())
    return f'<Option type="Map">{options}</Option>{props}'


def _single_symbol(kind: str, layer_class: str, values: dict[str, str]) -> str:
    return f"""  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
      <symbol type="{kind}" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="{layer_class}" enabled="1" pass="0" locked="0">{_options(values)}</layer>
      </symbol>
    </symbols>
  </renderer-v2>"""


def _labels(field: str, colour: str, placement: int) -> str:
    """Labels from ``field``; ``placement`` 0 around a point, 1 over a polygon's centroid."""
    return f"""  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName={xml_attr(field)} isExpression="0" fontSize="8" fontSizeUnit="Point" textColor="{colour}"
                  fontFamily="Sans Serif" textOpacity="1">
        <text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255"
                     bufferOpacity="1"/>
      </text-style>
      <placement placement="{placement}" dist="1" distUnits="MM" centroidInside="1"/>
      <rendering obstacle="0" scaleVisibility="0" drawLabels="1"/>
    </settings>
  </labeling>"""


def hazard_qml(threshold: float, *, suspected: bool = False) -> str:
    """CHA (or, ``suspected``, SHA) polygons: the IMAS fill at 50 % transparency, a solid outline, labelled by id."""
    colour = SHA_COLOUR if suspected else CHA_COLOUR
    fill = _single_symbol("fill", "SimpleFill", {
        "color": _rgba(colour, HAZARD_ALPHA), "outline_color": _rgba(colour), "outline_style": "solid",
        "outline_width": "0.5", "outline_width_unit": "MM", "style": "solid", "joinstyle": "miter",
    })
    kind = "SHA" if suspected else "CHA"
    properties = (f'  <customproperties><Option type="Map"><Option name="remnant:threshold" type="QString" '
                  f'value="{threshold:g}"/><Option name="remnant:hazard" type="QString" value="{kind}"/>'
                  f"</Option></customproperties>")
    return _qml(f"{fill}\n{_labels('id', _rgba(colour), 1)}\n{properties}", "Symbology|Labeling|CustomProperties", 2)


def strikes_qml() -> str:
    """Strike aim points: white crosses outlined in black, labelled by strike id."""
    marker = _single_symbol("marker", "SimpleMarker", {
        "name": "cross_fill", "color": "255,255,255,255", "outline_color": "0,0,0,255", "outline_width": "0.3",
        "outline_width_unit": "MM", "size": "3", "size_unit": "MM", "angle": "45",
    })
    return _qml(f"{marker}\n{_labels('id', '0,0,0,255', 0)}", "Symbology|Labeling", 0)


def store_in_geopackage(gpkg: Path, layer: str, qml: str, description: str) -> None:
    """Save ``qml`` as the default style of ``layer`` in the GeoPackage's ``layer_styles`` table,
    naming the layer's geometry column as ``gpkg_geometry_columns`` records it."""
    with sqlite3.connect(gpkg) as db:
        row = db.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()
        geometry_column = row[0] if row else ""
        db.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
                f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
                styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"""
        )
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, last_change)"
            " VALUES ('layer_styles', 'attributes', 'layer_styles', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        )
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,"
            " styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
            (layer, geometry_column, layer, qml, description),
        )
