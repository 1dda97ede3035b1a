"""Fitting a cloth scene's physical parameters to observed trajectories or to point tracks seen by calibrated
cameras (imports Warp and the engine).

    observations = observations_from_trajectory(scenes.load_trajectory("obs.npz"), scene, frames=50)
    space = scene_parameter_space(scene, ["materials.cotton.young_modulus", "weave.shear_modulus"])
    objective = ClothObjective(scene, observations, space)    # a learning.estimators Objective
"""

from ._fit import Estimation, ObjectiveOptions, Optimization, SceneFit, fit_scene
from ._footage_report import clip_names, write_footage_fit
from ._objective import ClothObjective, observed_states
from ._observations import Observations, observations_from_trajectory, random_crossings
from ._outliers import CameraRejection, OutlierRejection, measurement_errors, reject_outliers
from ._report import FORMAT, OUTPUT_FILES, fit_report, reference_values, write_fit
from ._residuals import ObservationLoss
from ._scene_parameters import ParameterTarget, SceneParameters, canonical_name, fittable_names, resolve_names
from ._space import scene_parameter_space
from ._tracking import (
    TrackingOptions,
    default_points,
    points_per_cell,
    read_footage,
    track_footage,
    track_points,
)
from ._tracks import (
    CameraPoints,
    PointTracks,
    TrackModel,
    camera_points,
    material_points,
    material_positions,
    tracks_from_trajectory,
)

__all__ = [
    "CameraPoints",
    "CameraRejection",
    "FORMAT",
    "OUTPUT_FILES",
    "ClothObjective",
    "Estimation",
    "ObjectiveOptions",
    "Optimization",
    "SceneFit",
    "ObservationLoss",
    "Observations",
    "OutlierRejection",
    "ParameterTarget",
    "PointTracks",
    "TrackModel",
    "TrackingOptions",
    "SceneParameters",
    "camera_points",
    "canonical_name",
    "clip_names",
    "default_points",
    "fit_report",
    "fit_scene",
    "fittable_names",
    "material_points",
    "material_positions",
    "measurement_errors",
    "observations_from_trajectory",
    "observed_states",
    "random_crossings",
    "read_footage",
    "points_per_cell",
    "reference_values",
    "reject_outliers",
    "resolve_names",
    "scene_parameter_space",
    "track_footage",
    "track_points",
    "tracks_from_trajectory",
    "write_fit",
    "write_footage_fit",
]
