"""The notebook API (``simulator.api``) and the student notebook, executed so it cannot rot."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from simulator.api import RunResult, Study, open_scenario
from simulator.errors import InputError
from tests.conftest import TINY_TOML, write_tiny
from tests.test_sweep import CLEARANCE

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "dud_rate_sensitivity.ipynb"


def test_set_returns_a_changed_copy_and_get_reads_values(tiny):
    study = open_scenario(tiny)
    changed = study.set("strikes[*].dud_rate.mean", 0.3)
    assert isinstance(changed, Study) and changed is not study
    assert study.get("strikes[0].dud_rate.mean") == 0.1 and changed.get("strikes[0].dud_rate.mean") == 0.3
    assert set(changed.get("strikes[*].dud_rate.mean").values()) == {0.3}
    both = study.set({"simulation.seed": 3, "strikes[id=R1].carriers": 2})
    assert both.scenario.simulation.seed == 3 and both.scenario.strikes[1].carriers == 2
    assert study.set("strikes[*].carriers", 2.0, scale=True).table()["carriers"].tolist() == [12, 8, 2]
    with pytest.raises(InputError, match="did you mean 'dud_rate'"):
        study.set("strikes[*].dudrate.mean", 0.3)
    with pytest.raises(InputError, match="less than or equal to 1"):
        study.set("strikes[0].dud_rate.mean", 3.0)


def test_run_gives_rasters_as_numpy_and_xarray_tables_and_figures(tiny):
    import matplotlib.figure
    import xarray as xr

    run = open_scenario(tiny).run(realizations=12, threads=1)
    assert isinstance(run, RunResult) and run.summary["realizations"] == 12
    density = run.density()
    assert isinstance(density, xr.DataArray) and density.dims == ("y", "x")
    assert density.attrs["crs"] == "EPSG:32634" and density.attrs["units"] == "items/ha"
    assert np.array_equal(density.values, run.arrays["density_per_ha"])
    assert density.x.values[0] == 500010.0 and density.y.values[0] == 4700990.0      # cell centres, north first
    p = run.p_contaminated()
    assert float(p.max()) <= 1.0 and p.attrs["hazard_threshold"] == 0.2
    assert set(run.dataset().data_vars) == {"density", "mean_count", "p_contaminated", "land_use"}
    assert run.land_use().attrs["flag_meanings"].split() == ["residential", "farmland", "forest"]
    assert len(run.per_realization) == 12 and "remnants" in run.per_realization
    assert not run.hazardous_area.empty and run.land_release is None and run.completion is None
    for figure in (run.plot_map(), run.plot_hazardous_area()):
        assert isinstance(figure, matplotlib.figure.Figure)
    with pytest.raises(InputError, match="clearance"):
        run.plot_land_release()
    assert "tiny" in repr(run)


def test_land_release_tables_and_figures_with_clearance(tmp_path):
    import matplotlib.figure

    path = write_tiny(tmp_path, TINY_TOML.replace("end = 2025-01-01", "end = 2030-01-01") + CLEARANCE)
    run = open_scenario(path).run(realizations=8, threads=1)
    assert {"remaining_ha_p50", "cleared_ha_p50"} <= set(run.land_release.columns)
    assert "p_all_released" in run.completion
    assert "years_to_completion" in run.per_realization
    assert isinstance(run.plot_land_release(), matplotlib.figure.Figure)
    assert isinstance(run.plot_completion(), matplotlib.figure.Figure)


@pytest.mark.slow
def test_sweep_and_sensitivity_from_the_api(tiny):
    study = open_scenario(tiny)
    sweep = study.sweep("strikes[*].dud_rate.mean", "0.05:0.2:2", realizations=6, threads=1)
    assert sweep.table["value"].tolist() == pytest.approx([0.05, 0.2])
    sens = study.sensitivity({"strikes[*].dud_rate.mean": [0.05, 0.3], "strikes[*].azimuth_deg": [0, 90]},
                             samples=4, realizations=4, threads=1)
    assert sens.runs == 16 and set(sens.table["parameter"]) == {"strikes[*].dud_rate.mean", "strikes[*].azimuth_deg"}


def test_notebook_is_committed_without_outputs():
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert any("REMNANT_NOTEBOOK_REALIZATIONS" in cell.source for cell in code)


@pytest.mark.slow
def test_notebook_runs(tmp_path, monkeypatch):
    """Execute the student notebook top to bottom in a temporary folder, with few realizations."""
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    monkeypatch.setenv("REMNANT_NOTEBOOK_REALIZATIONS", "12")
    notebook = nbformat.read(work / NOTEBOOK.name, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("12 realizations per run" in o.get("text", "") for o in outputs)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 4                                               # each figure shown once
    assert sorted(p.name for p in work.iterdir()) == [NOTEBOOK.name]      # it writes no files
