"""The virtual lab's cantilever test: the heavy elastica, the engine's strip at rest against an independent discrete
rod, convergence to the elastica at second order, and the fabric-level quantities the yarn parameters imply."""

import math

import numpy as np
import pytest
import torch
import warp as wp

import lab
import scenes
import simulator
from materials import CrossingProperties, YarnMaterial, fabric_measures

wp.config.quiet = True

SPACING, RADIUS, GRAVITY = 2.5e-4, 1.0e-4, 9.81


def yarn(bending_length: float, *, density=2.5e-5, stretch=30.0) -> YarnMaterial:
    """A yarn whose square plain fabric (spacing 0.25 mm, both yarns this density) has the given bending length."""
    areal = 2.0 * density / SPACING
    rigidity = areal * GRAVITY * bending_length**3 * SPACING  # kb = G L [N m^2]
    area = math.pi * RADIUS**2
    return YarnMaterial(density=density, young_modulus=stretch / area, bending_modulus=rigidity / area)


def fabric(along=0.02, across=0.03) -> lab.StripFabric:
    """A light woven fabric (0.2 kg/m^2, bending lengths 2 and 3 cm, yarn stiffness 30 N)."""
    return lab.StripFabric(spacing=SPACING, yarn_radius=RADIUS, along=yarn(along), across=yarn(across),
                           weave=CrossingProperties(), gravity=GRAVITY)


# -- the heavy elastica -------------------------------------------------------------------------------------------


def test_elastica_small_deflection_is_the_linear_beam():
    # w l^4 / (8 EI): the tip drops (l/c)^3 / 8 of the overhang; the next order is (l/c)^6 smaller
    for ratio in (0.05, 0.1):
        drop = lab.heavy_cantilever(ratio).tip[1]
        assert drop == pytest.approx(ratio**3 / 8.0, rel=ratio**3)


def test_elastica_at_the_standard_angle():
    # ASTM D1388 reads c = l / 2 where the chord is inclined at 41.5 degrees
    shape = lab.heavy_cantilever(2.0)
    assert math.degrees(shape.chord_angle) == pytest.approx(41.5, abs=0.02)
    # Peirce's approximation of the standard overestimates c there by about 2%
    assert lab.peirce_bending_length(1.0, shape.chord_angle) == pytest.approx(0.5 * 1.0188, rel=1e-3)
    # the sampled centre line ends at the tip and has unit length
    curve = np.asarray(shape.curve)
    assert curve[-1] == pytest.approx(shape.tip, abs=1e-12)
    assert np.linalg.norm(np.diff(curve, axis=0), axis=1).sum() == pytest.approx(1.0, rel=1e-4)


def test_elastica_integration_converges_and_inverts():
    coarse, fine = lab.heavy_cantilever(3.0, steps=500), lab.heavy_cantilever(3.0, steps=4000)
    assert coarse.tip == pytest.approx(fine.tip, abs=1e-5)
    for ratio in (0.7, 2.0, 4.0):
        angle = lab.heavy_cantilever(ratio).chord_angle
        assert lab.bending_length_from_chord(0.05, angle) == pytest.approx(0.05 / ratio, rel=1e-9)


def test_elastica_refuses_what_it_cannot_solve():
    with pytest.raises(ValueError, match="ratio = 7.0 is out of range"):
        lab.heavy_cantilever(7.0)
    with pytest.raises(ValueError, match="chord angle in"):
        lab.bending_length_from_chord(0.05, 2.0)
    with pytest.raises(ValueError, match="beyond l/c = 6"):
        lab.bending_length_from_chord(0.05, math.radians(89.9))


# -- the engine's strip -------------------------------------------------------------------------------------------


def test_cantilever_converges_to_the_elastica_at_second_order():
    errors = [lab.cantilever_test(fabric(), direction="warp", segments=n).bending_length_error for n in (10, 20)]
    order = math.log2(errors[0] / errors[1])
    assert order == pytest.approx(2.0, abs=0.2)  # second order in the spacing
    assert abs(errors[1]) < 2e-3


def test_cantilever_reads_each_direction_and_does_not_depend_on_the_width():
    strip = fabric(along=0.02, across=0.03)
    narrow = lab.cantilever_test(strip, direction="warp", segments=10)
    wide = lab.cantilever_test(strip, direction="warp", segments=10, width_nodes=5)
    assert wide.bending_length == pytest.approx(narrow.bending_length, rel=1e-6)
    other = lab.cantilever_test(fabric(along=0.03, across=0.02), direction="weft", segments=10)
    assert narrow.expected_bending_length == pytest.approx(0.02, rel=1e-12)
    assert other.expected_bending_length == pytest.approx(0.03, rel=1e-12)
    for result in (narrow, other):
        assert abs(result.bending_length_error) < 6e-3  # 10 segments: 0.4%
        assert result.flexural_rigidity == pytest.approx(
            result.areal_density * GRAVITY * result.bending_length**3, rel=1e-12)
    assert narrow.settle.residual.max() <= 1e-6


def _discrete_rod_rest(strip: lab.StripFabric, *, length: float, segments: int, start: np.ndarray) -> np.ndarray:
    """The rest shape of the strip's discrete yarn model written out by hand as a planar rod (torch, Newton on the
    energy): nodes k = 0..n+1 at spacing L', 0 and 1 clamped; per length the strip has (H-1) yarns along it (cut
    edges count half), so its stretching ks', bending kb' (twice at the clamp node 1) and masses are (H-1) yarns'
    worth; the cross yarns add (H-1) L' rho' per column (half at the tip). Returns (x, z) of nodes 1..n+1."""
    spacing = length / segments
    factor = spacing / strip.spacing
    area = math.pi * (strip.yarn_radius * factor) ** 2
    ks = strip.along.young_modulus / factor * area
    kb = strip.along.bending_modulus / factor * area
    rho_along, rho_across = strip.along.density * factor, strip.across.density * factor
    count = 2.0  # H = 3 nodes across: (H - 1) yarns' worth
    mass = np.full(segments + 2, count * (rho_along * spacing + rho_across * spacing))
    mass[-1] = count * (0.5 * rho_along * spacing + 0.5 * rho_across * spacing)
    bend = np.full(segments + 2, count * kb)
    bend[1] *= 2.0
    fixed = torch.tensor([[-spacing, 0.0], [0.0, 0.0]], dtype=torch.float64)
    weights = torch.tensor(mass * strip.gravity, dtype=torch.float64)

    def energy(free):
        points = torch.cat([fixed, free.reshape(-1, 2)])
        edges = points[1:] - points[:-1]
        lengths = torch.linalg.norm(edges, dim=1)
        stretch = 0.5 * count * ks * ((lengths - spacing) ** 2).sum() / spacing
        cross = edges[:-1, 0] * edges[1:, 1] - edges[:-1, 1] * edges[1:, 0]
        dot = (edges[:-1] * edges[1:]).sum(dim=1)
        theta = torch.atan2(cross, dot)
        bending = (torch.tensor(bend[1:-1]) * theta**2).sum() / (2.0 * spacing)
        return stretch + bending + (weights * points[:, 1]).sum()

    free = torch.tensor(start, dtype=torch.float64).reshape(-1)
    for _ in range(30):
        gradient = torch.autograd.functional.jacobian(energy, free)
        hessian = torch.autograd.functional.hessian(energy, free)
        step = torch.linalg.solve(hessian, gradient)
        free = free - step
        if step.abs().max() < 1e-15 * length:
            break
    return torch.cat([fixed[1:], free.reshape(-1, 2)]).numpy()


def test_strip_at_rest_equals_the_discrete_rod_written_independently():
    strip, segments = fabric(), 12
    result = lab.cantilever_test(strip, direction="warp", segments=segments, tolerance=1e-7)
    shape = lab.heavy_cantilever(2.0)  # a start for Newton from the continuum, not from the engine
    s = np.linspace(0.0, 1.0, segments + 1)[1:]
    curve = np.asarray(shape.curve)
    grid = np.linspace(0.0, 1.0, len(curve))
    start = np.stack([np.interp(s, grid, curve[:, 0]), -np.interp(s, grid, curve[:, 1])], axis=1) * result.overhang
    rod = _discrete_rod_rest(strip, length=result.overhang, segments=segments, start=start)
    assert np.abs(result.profile - rod).max() < 1e-6 * result.overhang


def test_settle_stops_at_once_when_the_simulation_blows_up():
    model = simulator.build_model(lab.strip_spec(fabric(), length=0.04, segments=4))
    solver = simulator.SolverImplicit(model, dt=1e-3)

    class Exploding:  # takes no step; its forces are those of a blown-up simulation: finite, and huge
        def step(self, state_in, state_out, *, dt):
            state_out.assign(state_in)

        def eval_forces(self, state):
            return wp.array(solver.eval_forces(state).numpy() * 0.0 + 1e30, dtype=solver.force.dtype)

    free = np.ones(model.node_count, dtype=bool)
    with pytest.raises(lab.SettleBlowUp, match="blew up at step 10 of 0.001 s: residual force 5.1e"):
        lab.settle(model, Exploding(), model.state(), free=free, dt=1e-3, max_steps=1000)


# -- fabric-level quantities --------------------------------------------------------------------------------------


def test_fabric_measures_of_the_original_experiments_say_they_are_not_real_fabrics():
    scene = scenes.load_scene("scenes/examples/table_drape.toml")  # cotton of the original experiments
    measures = fabric_measures(spacing=1e-3, yarn_radius=5e-4, warp=[scene.materials["cotton"]],
                               weft=[scene.materials["cotton"]], shear_modulus=1000.0, gravity=9.8)
    assert measures.areal_density == pytest.approx(4.0)  # (0.002 + 0.002) kg/m / 1 mm
    rigidity = 1.4e-4 * math.pi * 2.5e-7 / 1e-3  # B pi R^2 / L
    assert measures.bending_rigidity == pytest.approx((rigidity, rigidity))
    assert measures.bending_length[0] == pytest.approx((rigidity / (4.0 * 9.8)) ** (1 / 3))
    assert measures.tensile_stiffness[0] == pytest.approx(5e5 * math.pi * 2.5e-7 / 1e-3)
    notes = measures.unusual()
    assert len(notes) == 3 and "areal density 4 kg/m^2" in notes[0]
    assert fabric_measures(spacing=SPACING, yarn_radius=RADIUS, warp=[yarn(0.02)], weft=[yarn(0.03)],
                           shear_modulus=1000.0, gravity=GRAVITY).unusual() == []


def test_strip_keeps_the_fabric_level_quantities_at_any_resolution():
    strip = fabric()
    for segments in (5, 40):
        spec = lab.strip_spec(strip, length=0.04, segments=segments)
        along, across = spec.warp_materials[0], spec.weft_materials[0]
        measures = fabric_measures(spacing=spec.spacing, yarn_radius=spec.yarn_radius, warp=[along], weft=[across],
                                   shear_modulus=spec.crossing.shear_modulus, gravity=GRAVITY)
        assert measures.areal_density == pytest.approx(strip.areal_density, rel=1e-12)
        assert measures.bending_rigidity[0] == pytest.approx(strip.bending_rigidity, rel=1e-12)
        assert measures.bending_length[1] == pytest.approx(0.03, rel=1e-12)
        assert spec.yarn_radius / spec.spacing == pytest.approx(RADIUS / SPACING)


def test_cut_edges_make_the_strip_weigh_what_its_width_of_fabric_weighs():
    strip = fabric()
    spec = lab.strip_spec(strip, length=0.04, segments=8, width_nodes=4)
    model = simulator.build_model(spec, device="cpu")
    lab.cut_edges(model, clamp_column=1)
    mass = lab.node_masses(model).sum()
    # per unit length the strip carries (H - 1) yarns along it (the two cut edges half each); each of its W columns
    # carries a cross yarn over the width (H - 1) L, the free end's half
    width, height = model.nodes
    along, across = spec.warp_materials[0].density, spec.weft_materials[0].density
    expected = (height - 1) * model.spacing * (along * (width - 1) + across * (width - 0.5))
    assert mass == pytest.approx(expected, rel=1e-12)


def test_cut_edges_give_every_cell_four_shear_stencils_worth():
    spec = lab.specimen_spec(fabric(), spacing=1e-3, nodes=(6, 5), pin_stiffness=1.0, gravity=False)
    model = simulator.build_model(spec, device="cpu")
    k0 = model.parameter("stencil_shear_stiffness")[0, 0]
    lab.cut_edges(model)
    width, height = model.nodes
    assert model.parameter("stencil_shear_stiffness").sum() == pytest.approx(4 * (width - 1) * (height - 1) * k0)


# -- in-plane tests -----------------------------------------------------------------------------------------------


def test_tensile_test_reads_the_yarn_stiffness_per_width():
    for direction, strip in (("warp", fabric()), ("weft", fabric(along=0.03, across=0.02))):
        result = lab.tensile_test(strip, direction=direction, segments=6)
        assert result.expected == pytest.approx(30.0 / SPACING)  # ks / L
        assert abs(result.error) < 1e-3
        assert np.all(np.diff(result.forces) > 0) and result.strains[0] == pytest.approx(1e-3, rel=1e-2)


def test_shear_test_reads_the_shear_stiffness_with_its_compression_stiffening():
    strip = fabric()
    result = lab.shear_test(strip, direction="warp", segments=6, width_nodes=13)
    # the model's shear stiffness is S pi R^2 (1 + N / N0), N0 = 1 N: the specimen's crimp-bending compression at rest
    assert result.compression > 0.0
    assert result.expected == pytest.approx(lab.expected_shear_rigidity(strip) * (1.0 + result.compression))
    assert abs(result.error) < 0.01
    # jamming lowers the stiffness at right angles a little below 4 S pi R^2 / L (R/L = 0.4)
    plain = 4.0 * strip.weave.shear_modulus * math.pi * RADIUS**2 / SPACING
    assert 0.99 * plain < lab.expected_shear_rigidity(strip) < plain


# -- bias extension -----------------------------------------------------------------------------------------------


def test_bias_stiffness_of_the_pin_jointed_net():
    # L = 2 W: regions A (W^2 / 2) and B (W^2), gamma = 2 d / W: F / d = (4 / W^2)(W^2 / 2 + W^2 / 4) G_s = 3 G_s
    assert lab.bias_stiffness(2.0, length=0.1, width=0.05) == pytest.approx(6.0, rel=1e-12)
    # a long specimen is a strip in pure shear: axial strain e shears 45-degree yarns by 2 e, F / d = 4 G_s W / L
    assert lab.bias_stiffness(1.0, length=50.0, width=0.05) == pytest.approx(4.0 * 0.05 / 50.0, rel=1e-3)
    with pytest.raises(ValueError, match="at least twice the width"):
        lab.bias_stiffness(1.0, length=0.08, width=0.05)


def sticking_fabric() -> lab.StripFabric:
    """A fabric whose crossings stick (friction 1000) with a shear rigidity of 50 N/m per rad and little in-plane
    bending (G / (G_s W^2) = 8e-5 for the 5 cm wide bias specimen)."""
    weave = CrossingProperties(friction=1000.0, shear_modulus=50.0 * SPACING / (4.0 * math.pi * RADIUS**2),
                               friction_stiffness=1000.0 * SPACING / 1e-3)
    return lab.StripFabric(spacing=SPACING, yarn_radius=RADIUS, along=yarn(0.02), across=yarn(0.03), weave=weave,
                           gravity=GRAVITY)


def test_bias_extension_shows_the_three_regions_and_the_pin_jointed_stiffness():
    strip = sticking_fabric()
    result = lab.bias_extension_test(strip, cells_across=10)
    regions = result.region_shear()
    # the pin-jointed net: the middle region shears by gamma, the regions with one clamped yarn by gamma / 2, the
    # triangles at the clamps not at all
    assert regions["A"] == pytest.approx(1.0, abs=0.1)
    assert regions["B"] == pytest.approx(0.5, abs=0.1)
    assert regions["C"] == pytest.approx(0.0, abs=0.15)
    assert result.expected == pytest.approx(lab.bias_stiffness(lab.expected_shear_rigidity(strip), length=0.15,
                                                               width=0.05) * (1.0 + result.compression))
    # the yarns curve a little in the plane, which the net does not: 3% below it (docs/LAB.md)
    assert result.stiffness == pytest.approx(result.expected, rel=0.06)
    assert result.slip < 0.01 * result.extensions[-1]  # elastic, on the anchor springs
    assert np.all(np.diff(result.forces) > 0)
