"""Units audit: the engine has no hidden unit. Scaling lengths by a, masses by m and times by t, and every parameter
by its unit, leaves every dimensionless result (positions and sliding over the spacing, at the same step numbers)
unchanged to 1e-10."""

import dataclasses

import numpy as np
import pytest
import warp as wp

import simulator
from materials import CrossingProperties, YarnMaterial

from .cloth_factory import hanging_spec

wp.config.quiet = True


def scaled(spec: simulator.ClothSpec, *, length: float, mass: float, time: float) -> simulator.ClothSpec:
    """``spec`` in other units: 1 m -> ``length`` m, 1 kg -> ``mass`` kg, 1 s -> ``time`` s."""
    force = mass * length / time**2  # N

    def yarn(m: YarnMaterial) -> YarnMaterial:
        return YarnMaterial(density=m.density * mass / length,  # kg/m
                            young_modulus=m.young_modulus * force / length**2,  # Pa
                            bending_modulus=m.bending_modulus * force)  # Pa m^2 = N

    c = spec.crossing
    crossing = CrossingProperties(
        shear_modulus=c.shear_modulus * force / length**2,  # Pa
        friction=c.friction,  # -
        friction_stiffness=c.friction_stiffness * force / length,  # N/m
        friction_damping=c.friction_damping * force * time / length,  # N s/m
        contact_stiffness=c.contact_stiffness * force / length**2,  # N/m^2
        friction_smoothing=c.friction_smoothing,  # -
        shear_compression_scale=c.shear_compression_scale * force)  # N
    return dataclasses.replace(
        spec, spacing=spec.spacing * length, yarn_radius=spec.yarn_radius * length,
        warp_materials=[yarn(m) for m in spec.warp_materials], weft_materials=[yarn(m) for m in spec.weft_materials],
        crossing=crossing, origin=tuple(v * length for v in spec.origin),
        pin_stiffness=spec.pin_stiffness * force / length,  # N/m
        gravity=tuple(v * length / time**2 for v in spec.gravity),  # m/s^2
        wind_velocity=tuple(v * length / time for v in spec.wind_velocity),  # m/s
        wind_density=spec.wind_density * mass / length**3,  # kg/m^3
        wind_drag=spec.wind_drag * mass / (length**2 * time))  # kg/(m^2 s)


def dimensionless_rollout(spec: simulator.ClothSpec, *, dt: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions from the origin and sliding coordinates over the spacing, every step."""
    model = simulator.build_model(spec, device="cpu")
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-14, max_iterations=5000)
    result = simulator.rollout(model, solver, steps=steps)
    origin = np.asarray(spec.origin)
    return (result.x - origin) / spec.spacing, result.u / spec.spacing


def slippery_reference(pattern: str) -> simulator.ClothSpec:
    """The reference scene (stretching, bending, shear with jamming and compression stiffening, stick/slip crossings,
    parallel contact, pins, gravity, wind) with slippery crossings, so that the yarns slide and friction acts."""
    return hanging_spec((9, 9), pattern=pattern,
                        crossing=CrossingProperties(friction=0.1, friction_stiffness=100.0, friction_damping=1.0,
                                                    shear_compression_scale=1e-3))


@pytest.mark.parametrize("pattern", ["plain", "twill"])
def test_scaling_every_unit_leaves_the_motion_unchanged(pattern):
    spec = slippery_reference(pattern)
    steps, dt = 40, 1e-3
    x, u = dimensionless_rollout(spec, dt=dt, steps=steps)
    assert np.abs(x[:, -1] - x[:, 0]).max() > 0.05  # the cloth moves by more than a twentieth of a spacing
    assert np.abs(u[:, -1] - u[:, 0]).max() > 1e-6  # and its yarns slide
    for length, mass, time in ((3.7, 0.23, 1.9), (1e-2, 50.0, 0.3)):
        other = scaled(spec, length=length, mass=mass, time=time)
        x2, u2 = dimensionless_rollout(other, dt=dt * time, steps=steps)
        assert np.abs(x2 - x).max() <= 1e-10, (length, mass, time, np.abs(x2 - x).max())
        assert np.abs(u2 - u).max() <= 1e-10, (length, mass, time, np.abs(u2 - u).max())


def test_scaling_by_powers_of_two_changes_not_one_bit():
    """Powers of two scale every float exactly, so any constant with a unit hidden in a kernel would show. (The satin
    cloth at rest has crossings without compression and without force, whose stick/slip state rounding decides:
    a relative change of 1e-13 of its size moves it by 4.5e-8 spacings in one step, so arbitrary factors are
    checked on the plain and twill weaves above.)"""
    spec = slippery_reference("satin")
    x, u = dimensionless_rollout(spec, dt=1e-3, steps=40)
    for length, mass, time in ((2.0, 4.0, 0.5), (2.0**-20, 2.0**30, 2.0**-10)):
        x2, u2 = dimensionless_rollout(scaled(spec, length=length, mass=mass, time=time), dt=1e-3 * time, steps=40)
        assert np.array_equal(x2, x) and np.array_equal(u2, u)
