"""``warpweave info SCENE``: what a scene file describes and what it will cost."""

import collections

import scenes

from ._args import positive_int

__all__ = ["add_parser", "describe", "run"]


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "info",
        help="describe a scene file (sizes, materials, memory)",
        description="Validate a scene file and describe it: nodes, crossings, degrees of "
        "freedom, materials, pins, time stepping and estimated memory.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument(
        "--worlds", type=positive_int, default=1, metavar="B", help="estimate memory for B worlds (default 1)"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    scene = scenes.load_scene(args.scene, check_device=False)
    for label, text in describe(scene, worlds=args.worlds):
        print(f"{label:<12}{text}")
    return 0


def describe(scene: scenes.Scene, *, worlds: int = 1) -> list[tuple[str, str]]:
    """Label/text rows describing the scene."""
    cloth, sim = scene.cloth, scene.simulation
    width, height = cloth.nodes
    pattern = (
        f"{cloth.pattern} weave"
        if isinstance(cloth.pattern, str)
        else f"{len(cloth.pattern)}x{len(cloth.pattern[0])} over/under matrix"
    )
    rows = [
        ("scene", scene.source),
        (
            "cloth",
            f"{width} x {height} nodes, {pattern}, {cloth.pose} at {_vector(cloth.origin)} m, "
            f"spacing {cloth.spacing:g} m, yarn radius {cloth.yarn_radius:g} m, "
            f"size {(width - 1) * cloth.spacing:g} x {(height - 1) * cloth.spacing:g} m",
        ),
        ("nodes", f"{width * height} ({2 * (width + height) - 4} yarn ends on the border)"),
        ("crossings", f"{cloth.crossings}"),
        (
            "DOFs",
            f"{cloth.dofs} per world = 3*W*H positions ({3 * width * height}) + 2*(W-2)*(H-2) sliding "
            f"({2 * cloth.crossings})",
        ),
    ]
    warp_use = collections.Counter(scene.warp_material_names())
    weft_use = collections.Counter(scene.weft_material_names())
    for k, (name, material) in enumerate(scene.materials.items()):
        rows.append(
            (
                "materials" if k == 0 else "",
                f"{name}: density {material.density:g} kg/m, Young {material.young_modulus:g} Pa, bending "
                f"{material.bending_modulus:g} Pa ({warp_use[name]} warp, {weft_use[name]} weft yarns)",
            )
        )
    weave = scene.weave
    rows.append(
        (
            "weave",
            f"shear {weave.shear_modulus:g} Pa, friction {weave.friction:g}, friction stiffness "
            f"{weave.friction_stiffness:g} N/m, damping {weave.friction_damping:g} N*s/m, "
            f"contact {weave.contact_stiffness:g} N/m^2",
        )
    )
    pinned = scene.pinned_nodes()
    groups = ", ".join(g.nodes if isinstance(g.nodes, str) else f"{len(g.nodes)} listed" for g in scene.pins)
    rows.append(
        ("pins", f"{len(pinned)} node(s) ({groups}) at {scene.pin_stiffness:g} N/m" if pinned else "none")
    )
    wind = scene.wind
    rows.append(
        (
            "wind",
            f"{_vector(wind.velocity)} m/s, density {wind.density:g} kg/m^3, drag {wind.drag:g}"
            if any(wind.velocity)
            else "none",
        )
    )
    rows.append(
        (
            "simulation",
            f"{sim.steps} steps of {sim.dt:g} s = {sim.duration:g} s, saved every "
            f"{sim.save_every} -> {sim.frames} frames, gravity {_vector(sim.gravity)} m/s^2, "
            f"device {sim.device}, {sim.precision}",
        )
    )
    memory = scenes.estimate_memory(scene, worlds=worlds)
    rows.append(
        (
            "memory",
            f"{_bytes(memory.engine_bytes)} for the engine's arrays (model, solver, two states) and "
            f"{_bytes(memory.trajectory_bytes)} for the trajectory ({worlds} world(s))",
        )
    )
    return rows


def _vector(values) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


def _bytes(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"
