"""Shared derivative checks of the ``hodiff.scipy`` tests (``test_scipy_linalg.py``, ``test_scipy_signal.py``).

``check_derivatives(f_hd, f_ref, args, diff)`` checks a hodiff function against scipy's function of the same arguments,
as a map of the floating arguments ``args[i]`` (``i`` in ``diff``) packed into one vector ``z``:

* the JVP (``hd.jvp``) and the VJP (``hd.vjp``) against a central finite difference of **scipy's** function (an
  independent oracle: it never runs hodiff), and the transpose identity ``<v, J^T u> = <J v, u>``;
* forward against reverse: ``hd.jacfwd`` (batched tangents) equals ``hd.jacrev``;
* second order on ``s(z) = sum(w * f(z))``: ``hd.hvp`` (forward-over-reverse) against a finite difference of
  ``hd.grad``, ``hd.hessian(s) @ v`` and reverse-over-reverse against ``hd.hvp``, and the Hessian's symmetry.

The finite difference is the five-point stencil with step 1e-3 (truncation error ~1e-12 times the fifth derivative,
rounding ~1e-13 of the scale); the tolerance 1e-6 of the scale is five orders above both and six below what a wrong
rule gives. Exact methods agree to 1e-10 of the scale.
"""
from __future__ import annotations

import numpy as np

import hodiff as hd

FD_H = 1e-3
FD_RTOL = 1e-6
EXACT_RTOL = 1e-10


def _fd(fun, z, v, h=FD_H):
    """Five-point central difference of ``fun`` at ``z`` along ``v``."""
    f = lambda t: np.asarray(fun(z + t * v), dtype=float)
    return (f(-2 * h) - 8 * f(-h) + 8 * f(h) - f(2 * h)) / (12 * h)


def assert_close(got, want, scale, rtol, what):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * max(scale, 1e-300), err_msg=what)


def _packer(args, diff):
    shapes = [np.shape(args[i]) for i in diff]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    z0 = np.concatenate([np.ravel(np.asarray(args[i], dtype=float)) for i in diff])

    def unpack(z):   # slices of a plain vector or of a hodiff value alike
        full = list(args)
        for k, i in enumerate(diff):
            full[i] = z[offs[k]:offs[k + 1]].reshape(shapes[k])
        return full
    return z0, unpack


def check_derivatives(f_hd, f_ref, args, diff, seed=0):
    """First and second derivatives of ``f_hd`` w.r.t. ``args[i]`` for ``i`` in ``diff`` (see the module notes).
    ``f_ref`` is scipy's function with the same arguments (the finite-difference oracle)."""
    rng = np.random.default_rng(seed)
    z0, unpack = _packer(args, diff)
    fz = lambda z: f_hd(*unpack(z))
    fr = lambda z: np.asarray(f_ref(*unpack(z)))
    out = np.asarray(fr(z0))
    assert_close(fz(z0), out, np.max(np.abs(out)), EXACT_RTOL, "value")
    v = rng.uniform(-1, 1, z0.shape)
    u = rng.uniform(-1, 1, out.shape)
    # first order: JVP and VJP against scipy's finite differences, the transpose identity
    fd = _fd(fr, z0, v)
    scale = max(1.0, float(np.max(np.abs(fd))))
    _, jv = hd.jvp(fz, (z0,), (v,))
    assert_close(jv, fd, scale, FD_RTOL, "JVP vs finite differences")
    _, pullback = hd.vjp(fz, z0)
    (g,) = pullback(u)
    lhs, rhs = float(np.vdot(v, g)), float(np.vdot(jv, u))
    assert abs(lhs - rhs) <= 1e-12 * (np.vdot(np.abs(v), np.abs(g)) + np.vdot(np.abs(jv), np.abs(u))), \
        f"transpose identity: <v, J^T u> = {lhs} but <J v, u> = {rhs}"
    assert_close(np.vdot(v, g), np.vdot(fd, u), scale * np.sum(np.abs(u)), FD_RTOL, "VJP vs finite differences")
    # forward (batched tangents) against reverse
    jf, jr = hd.jacfwd(fz)(z0), hd.jacrev(fz)(z0)
    assert_close(jf, jr, max(1.0, np.max(np.abs(jr))), EXACT_RTOL, "jacfwd vs jacrev")
    w = rng.uniform(-1, 1, out.shape)
    s = lambda z: hd.sum(hd.multiply(w, fz(z)))
    hv = hd.hvp(s, z0, v)
    grad = hd.grad(s)
    fd2 = _fd(grad, z0, v)
    scale2 = max(1.0, float(np.max(np.abs(fd2))), float(np.max(np.abs(grad(z0)))))
    assert_close(hv, fd2, scale2, FD_RTOL, "HVP vs finite differences of the gradient")
    H = hd.hessian(s)(z0)
    assert_close(H @ v, hv, scale2, EXACT_RTOL, "hessian @ v vs hvp")
    assert_close(H, H.T, scale2, EXACT_RTOL, "Hessian symmetry")
    rr = hd.grad(lambda z: hd.sum(hd.multiply(hd.grad(s)(z), v)))(z0)
    assert_close(rr, hv, scale2, EXACT_RTOL, "reverse-over-reverse vs forward-over-reverse")
