"""QGIS styles, so outputs open styled: ``.qml`` sidecars and the GeoPackage's ``layer_styles`` table.

QGIS loads ``name.qml`` beside ``name.tif`` automatically, and a GeoPackage layer's default
style from its ``layer_styles`` table. Every string put into a style goes through
``safe.xml_attr``, and into the GeoPackage as an SQL parameter, never by string formatting.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from simulator.outputs.safe import xml_attr

QGIS_VERSION = "3.34.0-Prizren"


def density_qml(density: np.ndarray, label: str = "expected remnants per hectare") -> str:
    """A pseudocolour style for the density raster: zero transparent, classes at data quantiles."""
    positive = density[density > 0]
    top = float(positive.max()) if positive.size else 1.0
    breaks = np.unique(np.round(np.quantile(positive, [0.2, 0.4, 0.6, 0.8, 0.95]) if positive.size else [], 3))
    values = [*breaks[breaks < top], top]
    ramp = colormaps["inferno_r"]
    items = ['<item alpha="0" value="0" label="0" color="#ffffff"/>']
    for i, value in enumerate(values):
        colour = to_hex(ramp(0.15 + 0.85 * i / max(len(values) - 1, 1)))
        items.append(f'<item alpha="255" value="{value:g}" label={xml_attr(f"<= {value:g}")} color="{colour}"/>')
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="{QGIS_VERSION}" styleCategories="Symbology">
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="0.85" alphaBand="-1"
                    classificationMin="0" classificationMax="{top:g}">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="DISCRETE" classificationMode="3" clip="0" labelPrecision="3">
          {''.join(items)}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
  </pipe>
  <layerGeometryType>-1</layerGeometryType>
  <customproperties><Option type="Map"><Option name="remnant:legend" type="QString" value={xml_attr(label)}/></Option></customproperties>
</qgis>
"""


def landuse_qml(classes: list[tuple[str, str]]) -> str:
    """A paletted style for the land-use raster: code ``i + 1`` drawn in ``classes[i]``'s (name, '#rrggbb')."""
    entries = "".join(f'<paletteEntry value="{i + 1}" alpha="255" color={xml_attr(colour)} label={xml_attr(name)}/>'
                      for i, (name, colour) in enumerate(classes))
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="{QGIS_VERSION}" styleCategories="Symbology">
  <pipe>
    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1">
      <rasterTransparency/>
      <colorPalette>{entries}</colorPalette>
    </rasterrenderer>
  </pipe>
  <layerGeometryType>-1</layerGeometryType>
</qgis>
"""


def hazard_qml(threshold: float) -> str:
    """Hazard polygons: a hatched red fill with a dark outline, labelled."""
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling">
  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option name="color" type="QString" value="215,25,28,70"/>
            <Option name="outline_color" type="QString" value="120,0,0,255"/>
            <Option name="outline_style" type="QString" value="solid"/>
            <Option name="outline_width" type="QString" value="0.5"/>
            <Option name="outline_width_unit" type="QString" value="MM"/>
            <Option name="style" type="QString" value="b_diagonal"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <customproperties><Option type="Map"><Option name="remnant:threshold" type="QString" value="{threshold:g}"/></Option></customproperties>
  <layerGeometryType>2</layerGeometryType>
</qgis>
"""


def store_in_geopackage(gpkg: Path, layer: str, qml: str, description: str) -> None:
    """Save ``qml`` as the default style of ``layer`` in the GeoPackage's ``layer_styles`` table."""
    with sqlite3.connect(gpkg) as db:
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
            " styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, 'geometry', ?, ?, '', 1, ?, '', '')",
            (layer, layer, qml, description),
        )
