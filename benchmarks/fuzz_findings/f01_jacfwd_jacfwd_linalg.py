"""Finding 1 (fuzzer): forward-over-forward with batched tangents (jacfwd of jacfwd) is wrong for linear-algebra
primitives whose matrix argument depends on x (solve, cholesky, qr_packed, ...): an off-diagonal-wrong,
non-symmetric "Hessian", no error. Unbatched forward-over-forward (jvp of jvp), jvp of jacfwd, jacfwd of jvp,
hessian and reverse-over-reverse all agree with each other and with finite differences."""
import numpy as np

import hodiff as hd
from _check import case, done, isclose

A = np.array([[3.0, 0.5], [-0.4, 2.5]])
b = np.ones(2)
x = np.array([0.3, -0.2])


def fsolve(x):
    return np.sum(np.linalg.solve(A + np.diag(x), b))


def fchol(x):
    S = np.array([[2.0, 0.3], [0.3, 1.5]])
    return np.sum(np.linalg.cholesky(S + np.diag(x) * 0.5) ** 2 * np.array([[1.0, 0.0], [2.0, 3.0]]))


for name, f in [("solve", fsolve), ("cholesky", fchol)]:
    H = hd.hessian(f)(x)
    e = np.eye(2)
    ff = np.array([[hd.jvp(lambda y: hd.jvp(f, (y,), (e[i],))[1], (x,), (e[j],))[1] for j in range(2)]
                   for i in range(2)])
    # central second differences as the independent reference
    h = 1e-4
    fd = np.array([[(f(x + h * e[i] + h * e[j]) - f(x + h * e[i] - h * e[j]) - f(x - h * e[i] + h * e[j])
                     + f(x - h * e[i] - h * e[j])) / (4 * h * h) for j in range(2)] for i in range(2)])
    assert np.allclose(H, fd, atol=1e-6) and isclose(H, ff), (H, fd, ff)
    case(f"hd.jacfwd(hd.jacfwd(f))(x), f through {name}", f"{np.round(H, 8).tolist()} (= hd.hessian = jvp(jvp) = FD)",
         lambda: hd.jacfwd(hd.jacfwd(f))(x), lambda got: not isclose(got, H))
done()
