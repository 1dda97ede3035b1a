"""``warpweave info SCENE``: what a scene file describes and what it will cost."""

import collections

from ._args import UsageError, world_count
from ._resources import format_bytes

__all__ = ["add_parser", "describe", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "info",
        help="describe a scene file (sizes, materials, memory)",
        description="Validate a scene file and describe it: nodes, crossings, degrees of "
        "freedom, materials, pins, time stepping and estimated memory.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument(
        "--worlds", type=world_count, default=1, metavar="B", help="estimate memory for B worlds (default 1)"
    )
    parser.add_argument(
        "--device", metavar="D", help='"auto", "cpu", "cuda" or "cuda:N" to run on (default: the scene\'s)'
    )
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    scene = scenes.load_scene(args.scene, check_device=args.device is None)
    if args.device is not None:
        try:
            scenes.check_device(args.device)
        except ValueError as exc:
            raise UsageError(f"argument --device: {args.device!r}: {exc}") from None
        scene = scenes.with_parameters(scene, {"simulation.device": args.device})
    for label, text in describe(scene, worlds=args.worlds):
        print(f"{label:<12}{text}")
    return 0


def describe(scene, *, worlds: int = 1) -> list[tuple[str, str]]:
    """Label/text rows describing ``scene`` (a ``scenes.Scene``)."""
    import scenes

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
                f"{material.bending_modulus:g} Pa*m^2 ({warp_use[name]} warp, {weft_use[name]} weft yarns)",
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
    rows += _fabric_rows(scene)
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
    if scene.cameras:
        rows.append(("cameras", "; ".join(
            f"{c.name} {c.resolution[0]}x{c.resolution[1]} px at {c.fps:g} fps from {c.start_time:g} s "
            f"({'look-at' if c.form == 'look_at' else 'K, R, t'})" for c in scene.cameras)))
    rows.append(
        (
            "simulation",
            f"{sim.steps} steps of {sim.dt:g} s = {sim.duration:g} s"
            + (f" (each as {sim.substeps} substeps of {sim.solver_dt:g} s)" if sim.substeps > 1 else "")
            + f", saved every {sim.save_every} -> {sim.frames} frames, gravity {_vector(sim.gravity)} m/s^2, "
            f"device {sim.device} ({scenes.resolve_device(sim.device)} here), {sim.precision}",
        )
    )
    memory = scenes.estimate_memory(scene, worlds=worlds)
    rows.append(
        (
            "memory",
            f"{format_bytes(memory.engine_bytes)} for the engine's arrays (model, solver, two states) and "
            f"{format_bytes(memory.trajectory_bytes)} for the trajectory ({worlds} world(s))",
        )
    )
    device = scenes.resolve_device(sim.device)
    host, on_device = memory.peak_bytes(device)
    free_host = scenes.available_memory("cpu")
    text = f"peak {format_bytes(host)} of {format_bytes(free_host) if free_host is not None else 'unknown'} free"
    if on_device:
        free_device = scenes.available_memory(device)
        text += f"; on {device} {format_bytes(on_device)} of {format_bytes(free_device)} free"
    fits = (free_host is None or host <= free_host) and (not on_device or on_device <= free_device)
    rows.append(("", text + ("" if fits else " -- does NOT fit: use fewer worlds, steps or frames")))
    return rows


def _fabric_rows(scene) -> list[tuple[str, str]]:
    """What the yarn parameters mean for the fabric (``materials.fabric_measures``), and a warning when that is
    not a real woven fabric."""
    import numpy as np

    from materials import fabric_measures

    cloth = scene.cloth
    gravity = float(np.linalg.norm(scene.simulation.gravity))
    fabric = fabric_measures(spacing=cloth.spacing, yarn_radius=cloth.yarn_radius,
                             warp=[scene.materials[n] for n in scene.warp_material_names()],
                             weft=[scene.materials[n] for n in scene.weft_material_names()],
                             shear_modulus=scene.weave.shear_modulus, gravity=gravity)
    rigidity = "/".join(f"{g:.3g}" for g in fabric.bending_rigidity)
    lengths = ("/".join(f"{c * 1e3:.3g}" for c in fabric.bending_length) + " mm"
               if fabric.bending_length is not None else "none (no gravity)")
    rows = [
        ("", f"areal density {fabric.areal_density * 1e3:.4g} g/m^2; bending rigidity {rigidity} N*m per "
                   f"width and bending length {lengths} (warp/weft)"),
        ("", "tensile stiffness " + "/".join(f"{k:.3g}" for k in fabric.tensile_stiffness)
         + f" N/m per width (warp/weft), shear rigidity {fabric.shear_rigidity:.3g} N/m per rad"),
    ]
    spec = scene.fabric
    if spec is not None:
        threads = "/".join(f"{n:.3g}" for n in (cloth.spacing * spec.ends_per_cm * 100.0,
                                                 cloth.spacing * spec.picks_per_cm * 100.0))
        rows.insert(0, ("", f"[fabric]: {spec.ends_per_cm:g} ends and {spec.picks_per_cm:g} picks per cm of "
                            f"{'/'.join(f'{t:g}' for t in spec.tex)} tex yarns, {spec.yarn_diameter * 1e3:g} mm "
                            f"thick; each model yarn stands for {threads} threads (warp/weft)"))
    unusual = fabric.unusual()
    if unusual:
        rows.append(("", "not a real woven fabric: " + "; ".join(unusual)))
    return [("fabric", rows[0][1]), *rows[1:]]


def _vector(values) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"
