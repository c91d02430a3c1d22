"""What reading a land-use layer did, told in short sentences for the run log and ``remnant validate``."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.inputs.crs import MAX_SCALE_ERROR, label


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``3 features``, ``1 feature``."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


@dataclass(frozen=True)
class LandUseReport:
    """What reading a land-use layer did. Counts are of features; class counts are of kept features."""

    n_features: int  # features read
    n_repaired: int  # invalid geometries repaired (and kept)
    n_dropped: int  # null, empty, unreadable or non-polygonal geometries dropped
    n_default: int  # kept features whose class value was null or unmapped, given the default class
    unmapped_values: dict[str, int]  # raw value -> count that fell to the default class (nulls not included)
    source_crs: str | None  # CRS the coordinates were read in (the file's, or land_use.source_crs)
    crs: str  # CRS of the returned polygons
    layer: str | None = None  # layer read
    file_crs: str | None = None  # CRS the file declares (None: none)
    default_class: str = ""
    restored_shx: bool = False  # a Shapefile's missing .shx index was rebuilt (in a temporary copy)
    distorting_crs: str | None = None  # the layer's own CRS, not kept because it distorts distances

    def lines(self, unmapped_area_m2: dict[str, float] | None = None) -> list[str]:
        """Short human sentences, for the run log; every unmapped value, one line each if their areas are given."""
        out = [f"read {count(self.n_features, 'feature')}" + (f" from layer '{self.layer}'" if self.layer else "")]
        if self.restored_shx:
            out.append("rebuilt the Shapefile's missing .shx index in a temporary copy (the input is unchanged)")
        if self.n_repaired:
            out.append(f"repaired {count(self.n_repaired, 'invalid geometry', 'invalid geometries')}")
        if self.n_dropped:
            what = "null, empty or non-polygonal geometr"
            out.append(f"dropped {count(self.n_dropped, what + 'y', what + 'ies')}")
        if self.n_default:
            n_unmapped = sum(self.unmapped_values.values())
            parts = [f"{self.n_default - n_unmapped} with no class value"] if self.n_default > n_unmapped else []
            top = sorted(self.unmapped_values.items(), key=lambda kv: (-kv[1], kv[0]))
            if n_unmapped:
                listed = count(len(top), "value") if unmapped_area_m2 else ", ".join(f"'{v}' {n}" for v, n in top)
                parts.append(f"{n_unmapped} with unmapped values ({listed})")
            default = f"{count(self.n_default, 'feature')} got the default class '{self.default_class}'"
            out.append(f"{default}: {'; '.join(parts)}")
            if unmapped_area_m2:
                out += [f"  unmapped '{v}': {count(n, 'feature')}, {unmapped_area_m2.get(v, 0.0) / 1e4:.2f} ha"
                        for v, n in top]
        if self.source_crs != self.file_crs:
            declared = label(self.file_crs) if self.file_crs else "no CRS"
            took = f"took source CRS {label(self.source_crs)} from land_use.source_crs"
            out.append(f"{took} (the file declares {declared})")
        if self.source_crs != self.crs:
            out.append(f"projected from {label(self.source_crs)} to {label(self.crs)}")
        if self.distorting_crs:
            out.append(f"did not keep the layer's CRS {label(self.distorting_crs)}: it stretches distances by more "
                       f"than {MAX_SCALE_ERROR:.0%} here; set study_area.crs to choose another")
        return out
