"""Finding 7 (issue 12 item 7): NaN gradients at repeated eigen/singular values, det at a singular matrix,
and d/dy (-2)**y."""
import numpy as np

import hodiff as hd
from _check import case, done, isclose

D = np.diag([1.0, 1.0, 2.0])
e3 = np.zeros((3, 3))
e3[2, 2] = 1.0
case("grad of eigvalsh(A)[2] (the simple eigenvalue) at diag(1, 1, 2)", "e3 e3^T (outer product of its eigenvector)",
     lambda: hd.grad(lambda A: np.linalg.eigvalsh(A)[2])(D), lambda got: not isclose(got, e3))
case("grad of sum(eigvalsh(A)) = trace at the identity", "the identity",
     lambda: hd.grad(lambda A: np.sum(np.linalg.eigvalsh(A)))(np.eye(3)), lambda got: not isclose(got, np.eye(3)))
case("grad of eigh(A)[0][2] at diag(1, 1, 2)", "e3 e3^T",
     lambda: hd.grad(lambda A: np.linalg.eigh(A)[0][2])(D), lambda got: not isclose(got, e3))
case("grad of sum(svd(A, compute_uv=False)) at the identity", "the identity (d tr(sqrt(A^T A)) = U V^T)",
     lambda: hd.grad(lambda A: np.sum(np.linalg.svd(A, compute_uv=False)))(np.eye(3)),
     lambda got: not isclose(got, np.eye(3)))
S = np.array([[1.0, 2.0], [2.0, 4.0]])
adjT = np.array([[4.0, -2.0], [-2.0, 1.0]])
case("grad of det at the singular [[1, 2], [2, 4]]", "adj(A)^T = [[4, -2], [-2, 1]]",
     lambda: hd.grad(np.linalg.det)(S), lambda got: isinstance(got, Exception) or not isclose(got, adjT))
case("d/dy (-2.0) ** y at y = 2", "nan (undefined: log of a negative base; PyTorch and JAX give nan)",
     lambda: hd.grad(lambda y: (-2.0) ** y)(2.0), lambda got: isinstance(got, Exception) or not np.isnan(got))
done()
