"""Scene files, trajectory files, export and rendering.

A scene file (TOML, SI units) describes one cloth experiment::

    scene = scenes.load_scene("scenes/examples/hanging_wind.toml")   # validated, or SceneError
    spec = scenes.build_spec(scene)                                    # -> simulator.ClothSpec
    scenes.get_parameter(scene, "weave.friction")                      # dotted paths name parameters
    fitted = scenes.with_parameters(scene, {"materials.cotton.young_modulus": 4.2e5})
    text = scenes.scene_to_toml(fitted)                                # loads back to an equal Scene

Rendering (``scenes.render``) and VTK export import pyvista only when used.
"""

from ._atomic import atomic_directory, atomic_path
from ._build import build_spec, rest_state
from ._devices import (
    available_memory,
    check_device,
    cuda_device_count,
    init_warp_quietly,
    quiet_module_loading,
    resolve_device,
    set_warp_messages,
)
from ._errors import SceneError, suggestion
from ._estimate import TRAJECTORY_COPIES, MemoryEstimate, estimate_memory
from ._fittable import (
    FittableParameter,
    canonical_name,
    expand_names,
    fittable_names,
    fittable_parameter,
    parameter_unit,
)
from ._loader import load_scene, parse_scene
from ._parameters import get_parameter, parameter_names, with_parameters
from ._quantities import QUANTITIES, node_quantity, node_sliding, node_speed, node_strain
from ._schema import (
    MAX_STEPS,
    MAX_SUBSTEPS,
    PIN_SELECTORS,
    PRECISIONS,
    Cloth,
    Keyframe,
    PinGroup,
    Scene,
    Simulation,
    Wind,
)
from ._simulate import SimulationRun, simulate_scene, with_scene_advice
from ._writer import scene_to_dict, scene_to_json, scene_to_toml
from .export import EXPORT_FORMATS, ExportError, export_obj, export_trajectory, export_vtk
from .render import RenderError, render_animation, render_file, render_image
from .trajectory import Trajectory, TrajectoryError, load_trajectory, rest_trajectory, save_trajectory

__all__ = [
    "EXPORT_FORMATS",
    "MAX_STEPS",
    "MAX_SUBSTEPS",
    "PIN_SELECTORS",
    "PRECISIONS",
    "TRAJECTORY_COPIES",
    "QUANTITIES",
    "Cloth",
    "ExportError",
    "FittableParameter",
    "Keyframe",
    "MemoryEstimate",
    "PinGroup",
    "RenderError",
    "Scene",
    "SceneError",
    "Simulation",
    "SimulationRun",
    "Trajectory",
    "TrajectoryError",
    "Wind",
    "atomic_directory",
    "atomic_path",
    "build_spec",
    "canonical_name",
    "expand_names",
    "available_memory",
    "check_device",
    "cuda_device_count",
    "estimate_memory",
    "export_obj",
    "export_trajectory",
    "export_vtk",
    "fittable_names",
    "fittable_parameter",
    "get_parameter",
    "init_warp_quietly",
    "load_scene",
    "load_trajectory",
    "node_quantity",
    "node_sliding",
    "node_speed",
    "node_strain",
    "parameter_names",
    "parameter_unit",
    "parse_scene",
    "quiet_module_loading",
    "render_animation",
    "render_file",
    "render_image",
    "resolve_device",
    "rest_state",
    "rest_trajectory",
    "save_trajectory",
    "scene_to_dict",
    "scene_to_json",
    "scene_to_toml",
    "set_warp_messages",
    "simulate_scene",
    "with_scene_advice",
    "suggestion",
    "with_parameters",
]
