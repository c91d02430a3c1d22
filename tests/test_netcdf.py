"""NetCDF for xarray users: ``remnant run --netcdf`` and ``RunResult.dataset().to_netcdf()`` with the
default dependencies (xarray's scipy engine), a CF grid mapping, values equal to the GeoTIFFs."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import CRS

from simulator.api import RunResult
from simulator.config.variants import load_scenario
from simulator.outputs.netcdf import NETCDF_FILE
from simulator.pipeline import simulate
from tests.conftest import write_tiny


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A tiny run's outputs with ``--netcdf``, and the same run's Dataset written through the API."""
    folder = tmp_path_factory.mktemp("netcdf")
    scenario = write_tiny(folder)
    result = simulate(load_scenario(scenario, []), threads=1)
    api_file = folder / "api.nc"
    RunResult(result).dataset().to_netcdf(api_file, engine="scipy")  # the engine the default dependencies have
    return folder, scenario, result, api_file


def test_cli_writes_netcdf_equal_to_the_geotiffs_with_a_cf_grid_mapping(written, remnant):
    folder, scenario, _, _ = written
    out = folder / "cli"
    code, _, stderr = remnant("run", scenario, "--out", out, "--netcdf", "--quiet", "--threads", "1")
    assert code == 0, stderr
    with xr.open_dataset(out / NETCDF_FILE) as ds:
        assert ds.attrs["Conventions"].startswith("CF-")
        mapping = ds[ds["density"].attrs["grid_mapping"]]
        assert CRS.from_wkt(mapping.attrs["crs_wkt"]) == CRS.from_epsg(32634)
        assert CRS.from_cf(mapping.attrs) == CRS.from_epsg(32634)
        for axis, name in (("x", "projection_x_coordinate"), ("y", "projection_y_coordinate")):
            assert ds[axis].attrs["standard_name"] == name and ds[axis].attrs["units"] == "m"
        for variable, tif, offset in (("density", "density.tif", 0), ("p_contaminated", "p_contaminated.tif", 0),
                                      ("land_use", "landuse.tif", 1)):
            assert ds[variable].attrs["grid_mapping"] == "spatial_ref"
            with rasterio.open(out / tif) as src:
                band = src.read(1)
                xs = src.transform.c + (np.arange(src.width) + 0.5) * src.transform.a  # cell centres
                ys = src.transform.f + (np.arange(src.height) + 0.5) * src.transform.e
            np.testing.assert_array_equal(ds[variable].values + offset, band)
            np.testing.assert_allclose(ds["x"].values, xs, rtol=0, atol=1e-6)
            np.testing.assert_allclose(ds["y"].values, ys, rtol=0, atol=1e-6)
        assert ds["land_use"].attrs["flag_meanings"].split() == ["residential", "farmland", "forest"]
        np.testing.assert_array_equal(ds["land_use"].attrs["flag_values"], [0, 1, 2])


def test_the_api_dataset_writes_and_its_attributes_round_trip(written):
    _, _, result, api_file = written
    original = RunResult(result).dataset()
    with xr.open_dataset(api_file, engine="scipy") as back:
        assert set(back.data_vars) == {"density", "mean_count", "p_contaminated", "land_use"}
        assert back.attrs == original.attrs
        for name in [*original.data_vars, "x", "y", "spatial_ref"]:
            assert back[name].attrs.keys() == original[name].attrs.keys(), name
            for key, value in original[name].attrs.items():
                np.testing.assert_array_equal(back[name].attrs[key], value, err_msg=f"{name}.{key}")
            np.testing.assert_array_equal(back[name].values, original[name].values)


def test_netcdf_with_the_analytic_preview_is_refused_in_one_line(remnant, tiny, tmp_path):
    code, _, stderr = remnant("run", tiny, "--analytic", "--netcdf", "--out", tmp_path / "o")
    assert code == 2 and stderr.count("\n") == 1 and "--netcdf" in stderr
    assert not (tmp_path / "o").exists()
