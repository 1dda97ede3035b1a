"""The yarn crossings: compression from crimp, smooth stick/slip friction with anchors, and sliding damping.

Once per step (``linearize_launches``), after the forces of the ``Stage.SLIDING`` terms are summed, the term
freezes the crossing state: the crossing normals, the compression N (``simulator._crimp``) and, from the
sliding forces F_u, F_v, the smooth stick indicator tanh((mu N - |F|) / (c mu N)) and slide rate
sigmoid((|F| - mu N) / (c mu N)) of each sliding coordinate (c: the friction smoothing). Then, with
delta = u - anchor, the anchor spring (Gong et al. 2022, Eq. 4, with the right sign and |F_u|)

    F = -[1/2 (kf delta - K mu N) stick + 1/2 (kf delta + K mu N)],  K = tanh(delta / delta0), delta0 = mu N / kf,

is the gradient of a smooth energy at frozen indicators: a stiff spring when stuck, Coulomb sliding -mu N K
when slipping. The sliding damping -df udot enters the system as h D. After the step the anchors follow the
sliding at the slide rate (the solver's integration).
"""

import warp as wp

from .._crimp import eval_compression, eval_normals
from .._forces import friction_energy, friction_force, friction_stiffness
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Crossing", "friction_kernels", "switches"]


@wp.func
def switches(f_u: wp.float64, mu_n: wp.float64, smoothing: wp.float64):
    """Smooth stick indicator tanh((mu N - |F|) / (c mu N)) in [-1, 1] and slide indicator
    sigmoid((|F| - mu N) / (c mu N)) in [0, 1]; c is the friction smoothing width. |F| is smoothed
    as sqrt(F^2 + (0.01 c mu N)^2) so that the indicators are differentiable where F changes sign."""
    # without compression (mu N = 0) the width falls back to a trillionth of |F|, relative so that no force unit is
    # built in (the crossing then slips, stick = -1, whatever the units); with F = 0 too, z = -0.01 whatever the
    # last floor. z is formed from F / width so that nothing under- or overflows, nor its adjoint.
    width = smoothing * wp.max(wp.max(mu_n, wp.float64(1.0e-12) * wp.abs(f_u)), wp.float64(1.0e-150))
    ratio = f_u / width
    z = mu_n / width - wp.sqrt(ratio * ratio + wp.float64(1.0e-4))  # |F| smoothed over 1% of the width
    one = wp.float64(1.0)
    decay = wp.exp(-wp.abs(z))  # sigmoid(-z) written so that neither it nor its derivative overflows
    slide_rate = wp.where(z > wp.float64(0.0), decay, one) / (one + decay)
    return wp.tanh(z), slide_rate


def friction_kernels(switch_rule, force_rule):
    """The stick/slip indicator kernel and the force kernel of a friction law given as two ``wp.func``:
    ``switch_rule(F_u, mu N, c) -> (stick, slide rate)`` and ``force_rule(delta, mu N, kf, stick) -> force`` [N].
    (``simulator._reference`` builds the original code's law from the same kernels.)"""

    @wp.kernel(module="unique")
    def eval_friction_switches(
        f: wp.array2d(dtype=vec5d),
        compression: wp.array2d(dtype=wp.float64),
        friction: wp.array2d(dtype=wp.float64),
        smoothing: wp.array2d(dtype=wp.float64),
        stick: wp.array2d(dtype=wp.vec2d),
        slide_rate: wp.array2d(dtype=wp.vec2d),
    ):
        """Stick and slide indicators of (u, v) from the sliding forces F_u, F_v in f."""
        b, n = wp.tid()
        mu_n = friction[b, n] * compression[b, n]
        fn = f[b, n]
        s_u, r_u = switch_rule(fn[3], mu_n, smoothing[b, n])
        s_v, r_v = switch_rule(fn[4], mu_n, smoothing[b, n])
        stick[b, n] = wp.vec2d(s_u, s_v)
        slide_rate[b, n] = wp.vec2d(r_u, r_v)

    @wp.kernel(module="unique")
    def eval_friction_forces(
        q: wp.array2d(dtype=vec5d),
        anchor: wp.array2d(dtype=wp.vec2d),
        dof_mask: wp.array(dtype=vec5d),
        friction: wp.array2d(dtype=wp.float64),
        friction_stiffness_: wp.array2d(dtype=wp.float64),
        compression: wp.array2d(dtype=wp.float64),
        stick: wp.array2d(dtype=wp.vec2d),
        f: wp.array2d(dtype=vec5d),
    ):
        """Stick/slip anchor springs on the sliding coordinates of every crossing [N] (frozen N and indicators)."""
        b, n = wp.tid()
        qn = q[b, n]
        mu_n = friction[b, n] * compression[b, n]
        kf = friction_stiffness_[b, n]
        mask = dof_mask[n]
        a = anchor[b, n]
        st = stick[b, n]
        zero = wp.float64(0.0)
        wp.atomic_add(f, b, n, vec5d(zero, zero, zero, mask[3] * force_rule(qn[3] - a[0], mu_n, kf, st[0]),
                                     mask[4] * force_rule(qn[4] - a[1], mu_n, kf, st[1])))

    return eval_friction_switches, eval_friction_forces


@wp.kernel
def eval_friction_energy(
    q: wp.array2d(dtype=vec5d),
    anchor: wp.array2d(dtype=wp.vec2d),
    dof_mask: wp.array(dtype=vec5d),
    friction: wp.array2d(dtype=wp.float64),
    friction_stiffness_: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    stick: wp.array2d(dtype=wp.vec2d),
    energy: wp.array2d(dtype=wp.float64),
):
    """Anchor-spring energy [J] of every node at the frozen indicators."""
    b, n = wp.tid()
    qn = q[b, n]
    mu_n = friction[b, n] * compression[b, n]
    kf = friction_stiffness_[b, n]
    mask = dof_mask[n]
    a = anchor[b, n]
    st = stick[b, n]
    energy[b, n] = (mask[3] * friction_energy(qn[3] - a[0], mu_n, kf, st[0])
                    + mask[4] * friction_energy(qn[4] - a[1], mu_n, kf, st[1]))


@wp.kernel
def damping_product(
    p: wp.array2d(dtype=vec5d),
    dof_mask: wp.array(dtype=vec5d),
    damping: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += h D p: the sliding damping h df on the free sliding coordinates (atomic, so that its adjoint is
    adj_p += h D adj_out and adj_df += h p . adj_out)."""
    b, n = wp.tid()
    pn = p[b, n]
    hd = h * damping[b, n]
    mask = dof_mask[n]
    zero = wp.float64(0.0)
    wp.atomic_add(out, b, n, vec5d(zero, zero, zero, hd * pn[3] * mask[3], hd * pn[4] * mask[4]))


@wp.kernel
def add_crossing_blocks(
    q: wp.array2d(dtype=vec5d),
    anchor: wp.array2d(dtype=wp.vec2d),
    dof_mask: wp.array(dtype=vec5d),
    friction: wp.array2d(dtype=wp.float64),
    friction_stiffness_: wp.array2d(dtype=wp.float64),
    damping: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    stick: wp.array2d(dtype=wp.vec2d),
    h: wp.float64,
    blocks: wp.array3d(dtype=wp.types.matrix(shape=(5, 5), dtype=wp.float64)),
):
    """Add h df + h^2 kf' (the anchor spring's stiffness at frozen indicators) to the diagonal of each free
    sliding coordinate (the node's own block, slot 0)."""
    b, n = wp.tid()
    qn = q[b, n]
    a = anchor[b, n]
    st = stick[b, n]
    mask = dof_mask[n]
    mu_n = friction[b, n] * compression[b, n]
    kf = friction_stiffness_[b, n]
    hd = h * damping[b, n]
    block = blocks[b, n, 0]
    block[3, 3] = block[3, 3] + mask[3] * (hd + h * h * friction_stiffness(qn[3] - a[0], mu_n, kf, st[0]))
    block[4, 4] = block[4, 4] + mask[4] * (hd + h * h * friction_stiffness(qn[4] - a[1], mu_n, kf, st[1]))
    blocks[b, n, 0] = block


@wp.kernel
def add_crossing_preconditioner(
    friction_stiffness_: wp.array2d(dtype=wp.float64),
    damping: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    diag: wp.array2d(dtype=vec5d),
):
    """h^2 kf + h df on both sliding coordinates of the diagonal."""
    b, n = wp.tid()
    ks = h * h * friction_stiffness_[b, n] + h * damping[b, n]
    zero = wp.float64(0.0)
    diag[b, n] = diag[b, n] + vec5d(zero, zero, zero, ks, ks)


class Crossing(ForceTerm):
    """Compression, stick/slip friction and sliding damping at the crossings (``node_friction`` mu,
    ``node_friction_stiffness`` kf [N/m], ``node_friction_damping`` df [N s/m], ``node_friction_smoothing`` c;
    the compression reads ``segment_stretch_stiffness`` and ``triple_bend_stiffness``)."""

    name = "crossing"
    stage = Stage.CROSSING
    parameter_names = ("node_friction", "node_friction_stiffness", "node_friction_damping",
                       "node_friction_smoothing", "segment_stretch_stiffness", "triple_bend_stiffness")
    #: the friction law's indicator and force kernels (see ``friction_kernels``)
    switch_kernel, force_kernel = friction_kernels(switches, friction_force)

    def linearize_launches(self, model, c, ws=None):
        width, height = model.nodes
        nodes = (model.world_count, model.node_count)
        frozen = c.frozen
        return [
            Launch(eval_normals, nodes, [c.q, model.node_flip, width, height], [frozen.normal]),
            Launch(eval_compression, nodes,
                   [c.q, frozen.normal, model.segment_stretch_stiffness, model.triple_bend_stiffness, width, height,
                    model.spacing, model.yarn_radius], [frozen.compression]),
            Launch(self.switch_kernel, nodes,
                   [frozen.force_slide, frozen.compression, model.node_friction, model.node_friction_smoothing],
                   [frozen.stick, frozen.slide_rate]),
        ]

    def _inputs(self, model, c):
        return [c.q, c.anchor, model.dof_mask, model.node_friction, model.node_friction_stiffness,
                c.frozen.compression, c.frozen.stick]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(self.force_kernel, (model.world_count, model.node_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_friction_energy, (model.world_count, model.node_count), self._inputs(model, c))]

    def linear_product_launches(self, model, c, p, h, out, ws=None):
        return [Launch(damping_product, (model.world_count, model.node_count),
                       [p, model.dof_mask, model.node_friction_damping, h], [out])]

    def block_launches(self, model, c, h, blocks, ws=None):
        frozen = c.frozen
        return [Launch(add_crossing_blocks, (model.world_count, model.node_count),
                       [c.q, c.anchor, model.dof_mask, model.node_friction, model.node_friction_stiffness,
                        model.node_friction_damping, frozen.compression, frozen.stick, h], [blocks])]

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [Launch(add_crossing_preconditioner, (model.world_count, model.node_count),
                       [model.node_friction_stiffness, model.node_friction_damping, h], [diag])]
