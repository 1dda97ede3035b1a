"""From a Scene to the engine's ClothSpec, and the scene's initial (rest) state."""

import numpy as np

from materials import require_instance, weave_flips
from simulator import ClothSpec, PinPath, SelfContactSpec, WindPath

from ._errors import SceneError
from ._loader import pattern_matrix
from ._schema import Scene

__all__ = ["build_spec", "rest_state", "scene_flips"]


def build_spec(scene: Scene) -> ClothSpec:
    """The engine's description of the scene's cloth (grid, yarns, weave, pins, environment)."""
    require_instance("build_spec(scene)", scene, Scene, hint="load one with scenes.load_scene(path)")
    cloth = scene.cloth
    try:
        spec = ClothSpec(
            nodes=cloth.nodes,
            spacing=cloth.spacing,
            yarn_radius=cloth.yarn_radius,
            flips=scene_flips(scene),
            warp_materials=tuple(scene.materials[name] for name in scene.warp_material_names()),
            weft_materials=tuple(scene.materials[name] for name in scene.weft_material_names()),
            crossing=scene.weave,
            pose=cloth.pose,
            origin=cloth.origin,
            pins=scene.pinned_nodes(),
            pin_stiffness=scene.pin_stiffness,
            gravity=scene.simulation.gravity,
            wind_velocity=scene.wind.velocity,
            wind_density=scene.wind.density,
            wind_drag=scene.wind.drag,
            pin_paths=tuple(PinPath(nodes=group.resolve(cloth.nodes), times=[k.time for k in group.path],
                                    offsets=[k.value for k in group.path]) for group in scene.pins if group.path),
            wind_path=WindPath(times=[k.time for k in scene.wind.path], velocities=[k.value for k in scene.wind.path])
            if scene.wind.path else None,
            obstacles=tuple(o.build(f"obstacles[{k}]") for k, o in enumerate(scene.obstacles)),
            self_contact=SelfContactSpec(friction=scene.self_contact.friction, stiffness=scene.self_contact.stiffness,
                                         capacity=scene.self_contact.capacity) if scene.has_self_contact else None,
        )
    except ValueError as exc:
        raise SceneError(f"{scene.source}: {exc}") from None
    check_clearance(scene, spec)
    return spec


def check_clearance(scene: Scene, spec: ClothSpec) -> None:
    """Refuse a cloth that starts inside an obstacle: the cloth's surface (two yarn radii from a crossing, one
    from a yarn end) must lie outside every obstacle at t = 0."""
    positions = spec.rest_positions()
    width, height = spec.nodes
    radius = np.full((width, height), 2.0 * spec.yarn_radius)
    radius[[0, -1], :] = radius[:, [0, -1]] = spec.yarn_radius
    for k, obstacle in enumerate(spec.obstacles):
        start = np.asarray(obstacle.path.offsets[0]) if obstacle.path is not None else np.zeros(3)
        gap = obstacle.signed_distance(positions - start) - radius  # the obstacle where it is at t = 0
        i, j = np.unravel_index(np.argmin(gap), gap.shape)
        if gap[i, j] < 0.0:
            raise SceneError(f"{scene.source}: obstacles[{k}] ({obstacle.kind}) intersects the cloth at t = 0: the "
                             f"cloth's surface at node ({i}, {j}) is {-gap[i, j]:.3g} m inside it; expected the "
                             "cloth to start outside every obstacle: move the obstacle or cloth.origin")


def scene_flips(scene: Scene) -> np.ndarray:
    """The scene's over/under matrix, shape [W, H]: True where the weft lies over the warp (never on the border)."""
    cloth = scene.cloth
    pattern = cloth.pattern if isinstance(cloth.pattern, str) else pattern_matrix(cloth.pattern, cloth.nodes)
    return weave_flips(pattern, cloth.nodes)


def rest_state(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """The initial state: node positions x [m], shape [W, H, 3], and material coordinates u [m], [W, H, 2].

    u[i, j] = (i*L, j*L): the arc length of node (i, j) along its warp yarn and along its weft yarn.
    """
    width, height = scene.cloth.nodes
    i, j = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    u = np.stack([i, j], axis=-1) * scene.cloth.spacing
    return build_spec(scene).rest_positions(), u
