"""``warpweave params SCENE``: every fittable parameter of a scene, its value, unit and engine array."""

import json

__all__ = ["add_parser", "rows", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "params",
        help="list the parameters of a scene that fit and gradcheck accept",
        description="List every fittable parameter of a scene file: its dotted name (what --params of "
        "'warpweave fit' and 'warpweave gradcheck' take), its value in the scene, its SI unit and the "
        "engine parameter array it sets (moduli are multiplied by the yarn cross-section pi R^2 there).",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    scene = scenes.load_scene(args.scene, check_device=False)
    table = rows(scene)
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    width = max(len(row["name"]) for row in table)
    print(f"{'parameter':<{width}}  {'value':>12}  {'unit':<11} engine array")
    for row in table:
        print(f"{row['name']:<{width}}  {row['value']:>12.6g}  {row['unit']:<11} {row['array']}")
    return 0


def rows(scene) -> list[dict]:
    """One dict per fittable parameter of ``scene`` (a ``scenes.Scene``): name, value, unit, array."""
    import scenes

    table = []
    for name in scenes.fittable_names(scene):
        where = scenes.fittable_parameter(name)
        table.append({"name": name, "value": float(scenes.get_parameter(scene, name)), "unit": where.unit,
                      "array": where.array or "- (read by fits to footage)"})
    return table
