"""The step allocates nothing: after a first step has sized its buffers, ``solver.step`` (with either operator
and a keyframed Control) creates no Warp array, so it costs no allocator time per step and can be captured in
a CUDA graph. (Filling the Control from its schedule is host-side work between steps: it copies the keyframe
brackets of the step's time.)"""

import contextlib

import pytest
import warp as wp

import simulator

from .cloth_factory import hanging_spec

#: Warp functions that allocate a new array
ALLOCATORS = ("zeros", "empty", "ones", "full", "clone", "zeros_like", "empty_like", "ones_like", "full_like",
              "from_numpy")


@contextlib.contextmanager
def counted_allocations():
    """Record every allocating Warp call, and every wp.array built from data or a shape (not a view of memory
    that exists), made inside the block."""
    made: list[str] = []
    saved = {name: getattr(wp, name) for name in ALLOCATORS if hasattr(wp, name)}
    construct = wp.array.__init__

    def counting(name, function):
        def call(*args, **kwargs):
            made.append(name)
            return function(*args, **kwargs)
        return call

    def constructing(self, *args, **kwargs):
        if kwargs.get("ptr") is None and (args or kwargs.get("data") is not None or kwargs.get("shape") is not None):
            made.append("array")
        return construct(self, *args, **kwargs)

    try:
        for name, function in saved.items():
            setattr(wp, name, counting(name, function))
        wp.array.__init__ = constructing
        yield made
    finally:
        wp.array.__init__ = construct
        for name, function in saved.items():
            setattr(wp, name, function)


def test_the_probe_sees_an_allocation():
    with counted_allocations() as zeros:
        wp.zeros(3, dtype=wp.float64, device="cpu")
    with counted_allocations() as from_data:
        wp.array([1.0, 2.0], dtype=wp.float64, device="cpu")
    assert "zeros" in zeros and from_data == ["array"]


@pytest.mark.parametrize("operator", ["assembled", "matrix_free"])
def test_a_step_with_a_scripted_handle_allocates_nothing_after_the_first(operator):
    handle = simulator.PinPath(nodes=[(0, 0), (6, 0)], times=[0.0, 0.002, 0.004],
                               offsets=[[0.0, 0.0, 0.0], [0.0, 1e-4, 2e-4], [1e-4, 1e-4, 2e-4]])
    model = simulator.build_model([hanging_spec((7, 7), pin_paths=[handle]), hanging_spec((7, 7), pin_paths=[handle])])
    solver = simulator.SolverImplicit(model, dt=1e-3, operator=operator)
    schedule = simulator.ControlSchedule(model)
    control = schedule.control()
    states = [model.state(), model.state()]
    schedule.fill(control, time=1e-3)
    solver.step(states[0], states[1], control, None, 1e-3)
    made = []
    for step in range(2, 6):
        schedule.fill(control, time=step * 1e-3)  # host-side: it copies the keyframe brackets of this time
        with counted_allocations() as during_step:
            solver.step(states[(step + 1) % 2], states[step % 2], control, None, 1e-3)
        made += during_step
    assert made == [], f"the {operator} step allocated: {made}"
    assert all(float(r) < 1e-5 for r in solver.residual.numpy())  # and it did solve
