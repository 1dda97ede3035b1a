"""The virtual fabric-testing lab: standard textile tests run on the yarn-level engine.

``lab.cantilever_test`` (ASTM D1388 bending length) runs a strip cut from a scene's fabric
(``lab.strip_fabric``, ``lab.strip_spec``) to rest (``lab.settle``) and reads it like the standard, against
the exact heavy elastica (``lab.heavy_cantilever``); ``lab.tensile_test`` and ``lab.shear_test`` grip a specimen
at both ends; ``lab.bias_extension_test`` pulls a specimen cut at 45 degrees to the yarns; ``lab.drape_test``
hangs a disc of fabric over a smaller one (Cusick's drape coefficient). ``lab.LabObjective`` fits yarn parameters
to measured lab values. Commands: ``warpweave lab SCENE --test
cantilever|tensile|shear|bias|drape`` and ``warpweave fit SCENE --lab MEASUREMENTS.toml --params ...``.
"""

from ._bias import BiasResult, bias_extension_test, bias_stiffness
from ._calibrate import LabMeasurements, LabObjective, MeasurementsError, load_measurements
from ._cantilever import CantileverResult, cantilever_test
from ._drape import DrapeResult, count_folds, drape_coefficient, drape_test, shadow_outline
from ._elastica import MAX_RATIO, CantileverShape, bending_length_from_chord, heavy_cantilever, peirce_bending_length
from ._inplane import InPlaneResult, expected_shear_rigidity, shear_test, small_strain_slope, tensile_test
from ._settle import SettleBlowUp, SettleError, SettleResult, node_masses, settle
from ._specimen import (
    DIRECTIONS,
    StripFabric,
    cell_nodes,
    cut_edges,
    cut_to_cells,
    specimen_spec,
    strip_fabric,
    strip_spec,
)

__all__ = [
    "DIRECTIONS",
    "MAX_RATIO",
    "BiasResult",
    "CantileverResult",
    "CantileverShape",
    "DrapeResult",
    "InPlaneResult",
    "LabMeasurements",
    "LabObjective",
    "MeasurementsError",
    "SettleBlowUp",
    "SettleError",
    "SettleResult",
    "StripFabric",
    "bending_length_from_chord",
    "bias_extension_test",
    "bias_stiffness",
    "cantilever_test",
    "cell_nodes",
    "count_folds",
    "cut_edges",
    "cut_to_cells",
    "drape_coefficient",
    "drape_test",
    "expected_shear_rigidity",
    "heavy_cantilever",
    "load_measurements",
    "node_masses",
    "peirce_bending_length",
    "settle",
    "shadow_outline",
    "shear_test",
    "small_strain_slope",
    "specimen_spec",
    "strip_fabric",
    "strip_spec",
    "tensile_test",
]
