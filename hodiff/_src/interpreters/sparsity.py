"""Sparsity detection by abstract interpretation: which inputs each value depends on, and which pairs of inputs
can interact nonlinearly (the Hessian pattern). No derivative values are used to decide an entry.

An :class:`IndexSets` box at its own trace level stands for an array whose every element carries the *set of input
indices it depends on*, stored for the whole array as one boolean ``scipy.sparse`` matrix of shape
``(array.size, n)`` (row ``r`` = the dependency set of the array's flat element ``r``). The box also carries the
ordinary value (``primal``) so that shapes, dtypes and value-dependent control flow behave as in a normal call;
the sets themselves never look at numbers (constants are treated as dense: a zero in a constant matrix does not
remove a dependency, a ``where`` condition does not select a branch), so the pattern holds at every point that
follows the same control flow.

While the function runs, :class:`SparsityTrace` accumulates the Hessian pattern of its scalar output with the
classic forward rules for *nonlinear interaction domains*: a linear operation adds nothing; ``u * v`` adds
``S(u) x S(v)``; a nonlinear ``phi(u)`` adds ``S(u) x S(u)``. Summed over elements these products are the sparse
products ``Ju^T Jv``. The result over-estimates where a nonlinear intermediate does not reach the output (or is
multiplied by zero); it never misses an entry that the Hessian of the executed program can have.

The rule table is :data:`RULES` (``primitive name -> rule``); a primitive without a rule gets the conservative
fallback (every output element depends on the union of all its inputs' sets; a nonlinear one also adds the square
of that union).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..numpy.arrayops import ArrayOps
from ..core.engine import PRIMITIVES, Box, Trace, new_level, shape_of

__all__ = ["RULES", "IndexSets", "SparsityTrace"]


# ----------------------------------------------------------------------------------------------------------------
# sparse boolean helpers

def _empty(m, n):
    return sp.csr_matrix((m, n), dtype=bool)


def _selection(rows, cols, shape):
    """A boolean sparse matrix with ones at ``(rows, cols)`` (duplicates merged)."""
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    m = sp.csr_matrix((np.ones(rows.size, dtype=bool), (rows, cols)), shape=shape)
    m.sum_duplicates()
    return m


def _gather(J, src):
    """Rows ``src`` (an index array of any shape) of ``J``: the sets of a structural copy."""
    src = np.asarray(src, dtype=np.int64).ravel()
    if src.size == J.shape[0] and np.array_equal(src, np.arange(src.size)):
        return J
    return J[src]


def _index_array(shape, offset=0):
    return np.arange(offset, offset + math.prod(shape), dtype=np.int64).reshape(shape)


def _broadcast_sets(J, shape_in, shape_out):
    """The sets of an argument broadcast to the output's shape (``None`` stays ``None``)."""
    if J is None:
        return None
    shape_in, shape_out = tuple(shape_in), tuple(shape_out)
    if shape_in == shape_out:
        return J
    return _gather(J, np.broadcast_to(_index_array(shape_in), shape_out))


def _union(*Js):
    Js = [J for J in Js if J is not None]
    if not Js:
        return None
    out = Js[0]
    for J in Js[1:]:
        out = out + J          # boolean: + is "or"
    return out


def _all_rows(J):
    """One row: the union of every row of ``J``."""
    return sp.csr_matrix(J.sum(axis=0) > 0) if J.nnz else _empty(1, J.shape[1])


def _reduce_map(shape_in, axes):
    """For each flat input element, the flat index of the reduced output element it falls into."""
    nd = len(shape_in)
    axes = [a % nd for a in axes] if nd else []
    keep = tuple(1 if i in axes else d for i, d in enumerate(shape_in))
    return np.broadcast_to(_index_array(keep), shape_in), math.prod(keep)


def _reduce_sets(J, shape_in, axes):
    """Union of the sets over ``axes``: rows indexed like the reduced (keepdims) output."""
    dest, m = _reduce_map(tuple(shape_in), axes)
    return _selection(dest, np.arange(math.prod(shape_in)), (m, math.prod(shape_in))) @ J


# ----------------------------------------------------------------------------------------------------------------
# the box and the trace

class IndexSets(ArrayOps, Box):
    """An array traced for sparsity: its value (``primal``) and, per flat element, the set of input indices it
    depends on (``sets``: a boolean ``scipy.sparse.csr_matrix`` of shape ``(size, n)``)."""

    __slots__ = ("_trace", "primal", "sets")

    def __init__(self, primal, sets, trace):
        self.primal = primal
        self.sets = sets
        self._trace = trace

    def _base(self):
        return self.primal

    def __repr__(self):
        return f"IndexSets(shape={self.shape}, nnz={self.sets.nnz})"


class SparsityTrace(Trace):
    """The sparsity interpreter at one level, for ``n`` inputs. ``hess`` accumulates ``sum A^T B`` terms."""

    __slots__ = ("hess", "n", "piecewise_linear")

    def __init__(self, n, piecewise_linear=False):
        super().__init__(new_level())
        self.n = int(n)
        self.hess = _empty(self.n, self.n)
        self.piecewise_linear = piecewise_linear

    def interact(self, A, B=None):
        """Record that every input in row r of ``A`` can interact with every input in row r of ``B``."""
        if A is None or A.nnz == 0:
            return
        if B is None:
            B = A
        elif B.nnz == 0:
            return
        self.hess = self.hess + (A.T @ B).tocsr()

    def hessian(self):
        H = (self.hess + self.hess.T).tocsr()
        H.sum_duplicates()
        H.sort_indices()
        return H

    def process(self, prim, args, params):
        primals = list(args)
        sets = [None] * len(args)
        for i, a in enumerate(args):
            if type(a) is IndexSets and a._trace is self:
                primals[i] = a.primal
                sets[i] = a.sets
        ans = prim.bind(*primals, **params)
        rule = RULES.get(prim.name)
        J = rule(self, prim, ans, primals, sets, params) if rule is not None else \
            _fallback(self, prim, ans, primals, sets, params)
        if J is None or J.nnz == 0:
            return ans
        return IndexSets(ans, J.tocsr(), self)


# ----------------------------------------------------------------------------------------------------------------
# rules: rule(trace, prim, ans, primals, sets, params) -> sets of the output (or None: constant)

def _out_shape(ans):
    return tuple(shape_of(ans))


def _ew_args(ans, primals, sets):
    """Every argument's sets broadcast to the output's shape."""
    out = _out_shape(ans)
    return [_broadcast_sets(J, shape_of(p), out) for p, J in zip(primals, sets)]


def _ew_linear(tr, prim, ans, primals, sets, params):
    return _union(*_ew_args(ans, primals, sets))


def _ew_nonlinear(tr, prim, ans, primals, sets, params):
    U = _union(*_ew_args(ans, primals, sets))
    tr.interact(U)
    return U


def _ew_piecewise(tr, prim, ans, primals, sets, params):
    U = _union(*_ew_args(ans, primals, sets))
    if not tr.piecewise_linear:
        tr.interact(U)
    return U


def _multiply(tr, prim, ans, primals, sets, params):
    a, b = _ew_args(ans, primals, sets)
    if a is not None and b is not None:
        tr.interact(a, b)
    return _union(a, b)


def _divide(tr, prim, ans, primals, sets, params):
    a, b = _ew_args(ans, primals, sets)
    U = _union(a, b)
    if b is not None:
        tr.interact(b, U)
    return U


def _is_const_scalar(v, values):
    return not isinstance(v, Box) and np.ndim(v) == 0 and float(np.real(v)) in values


def _power(tr, prim, ans, primals, sets, params):
    a, b = _ew_args(ans, primals, sets)
    if b is None and _is_const_scalar(primals[1], (0.0, 1.0)):
        return a                      # x ** 1 is linear (x ** 0 constant; kept, conservatively)
    U = _union(a, b)
    tr.interact(U)
    return U


def _ew_multilinear(tr, prim, ans, primals, sets, params):
    """An elementwise primitive flagged linear without a rule of its own: possibly multilinear."""
    args = [J for J in _ew_args(ans, primals, sets) if J is not None]
    U = _union(*args)
    if len(args) > 1:
        tr.interact(U)
    return U


def _where(tr, prim, ans, primals, sets, params):
    # the condition is a plain value: both branches are kept, whatever it says
    _, x, y = _ew_args(ans, primals, sets)
    return _union(x, y)


def _structural(tr, prim, ans, primals, sets, params):
    """A one-argument copy/gather (reshape, transpose, broadcast_to, getitem): run the primitive on indices."""
    x = primals[0]
    src = prim.impl(_index_array(shape_of(x)), **params)
    return _gather(sets[0], src)


def _scatter_add(tr, prim, ans, primals, sets, params):
    g = primals[0]
    idx, shape = params["idx"], params["shape"]
    dest = _index_array(shape)[idx]
    src = np.broadcast_to(_index_array(shape_of(g)), np.shape(dest))
    M = _selection(dest, src, (math.prod(shape), math.prod(shape_of(g))))
    return M @ sets[0]


def _concatenate(tr, prim, ans, primals, sets, params):
    offset, idx, blocks = 0, [], []
    for p, J in zip(primals, sets):
        s = tuple(shape_of(p))
        idx.append(_index_array(s, offset))
        blocks.append(J if J is not None else _empty(math.prod(s), tr.n))
        offset += math.prod(s)
    src = prim.impl(*idx, **params)
    return _gather(sp.vstack(blocks, format="csr"), src)


def _sum(tr, prim, ans, primals, sets, params):
    return _reduce_sets(sets[0], shape_of(primals[0]), params["axis"])


def _extreme(tr, prim, ans, primals, sets, params):
    R = _reduce_sets(sets[0], shape_of(primals[0]), params["axis"])
    if not tr.piecewise_linear:
        tr.interact(R)
    return R


def _prefix_map(shape):
    """Input element (.., k) -> every output element (.., k') with k' >= k, as a selection matrix (out, in)."""
    shape = tuple(shape)
    L = shape[-1] if shape else 1
    idx = _index_array(shape).reshape(-1, L)
    k, kp = np.triu_indices(L)          # k <= kp
    rows = idx[:, kp].ravel()
    cols = idx[:, k].ravel()
    return _selection(rows, cols, (math.prod(shape), math.prod(shape)))


def _cumsum(tr, prim, ans, primals, sets, params):
    return _prefix_map(shape_of(primals[0])) @ sets[0]


def _last_nonlinear(tr, prim, ans, primals, sets, params):
    """prod_last / cumprod_last: the union over the last axis interacts with itself."""
    s = tuple(shape_of(primals[0]))
    R = _reduce_sets(sets[0], s, (-1,)) if s else sets[0]
    tr.interact(R)
    if prim.name == "prod_last":
        return R
    return _prefix_map(s) @ sets[0]


def _contraction(tr, specs, shapes, out, out_shape, sets):
    """Sets of an einsum-style contraction ``specs -> out`` (operands dense), and its Hessian terms."""
    out_shape = tuple(out_shape)
    dims = dict(zip(out, out_shape))

    def project(spec, shape, letters, J):
        """Union of J's rows over the letters of ``spec`` not in ``letters``; rows indexed by ``letters``."""
        lshape = tuple(dims.get(c, 1) if c not in spec else shape[spec.index(c)] for c in letters)
        coords = np.indices(tuple(shape)).reshape(len(shape), -1) if shape else np.zeros((0, 1), dtype=np.int64)
        pos = [coords[spec.index(c)] for c in letters]
        flat = np.ravel_multi_index(pos, lshape) if letters else np.zeros(math.prod(shape), dtype=np.int64)
        return _selection(flat, np.arange(math.prod(shape)), (math.prod(lshape), math.prod(shape))) @ J, lshape

    result = None
    for spec, shape, J in zip(specs, shapes, sets):
        if J is None:
            continue
        shared = "".join(dict.fromkeys(c for c in spec if c in out))
        R, lshape = project(spec, shape, shared, J)
        # each output element reads the row of its shared-letter coordinates (a size-1 dim broadcasts)
        ocoords = np.indices(out_shape).reshape(len(out_shape), -1) if out_shape else np.zeros((0, 1), np.int64)
        pos = [ocoords[out.index(c)] if lshape[i] != 1 else np.zeros(ocoords.shape[1], np.int64)
               for i, c in enumerate(shared)]
        src = np.ravel_multi_index(pos, lshape) if shared else np.zeros(math.prod(out_shape), dtype=np.int64)
        part = _gather(R, src)
        result = part if result is None else result + part
    tracked = [i for i, J in enumerate(sets) if J is not None]
    for ii, p in enumerate(tracked):
        for q in tracked[ii + 1:]:
            common = "".join(dict.fromkeys(c for c in specs[p] if c in specs[q]))
            # a size-1 dimension broadcasts against the other operand's: no coordinate to match on
            common = "".join(c for c in common if shapes[p][specs[p].index(c)] == shapes[q][specs[q].index(c)])
            Ap, _ = project(specs[p], shapes[p], common, sets[p])
            Aq, _ = project(specs[q], shapes[q], common, sets[q])
            tr.interact(Ap, Aq)
    return result


def _einsum(tr, prim, ans, primals, sets, params):
    ins, out = params["subscripts"].split("->")
    specs = ins.split(",")
    return _contraction(tr, specs, [tuple(shape_of(p)) for p in primals], out, _out_shape(ans), sets)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _matmul(tr, prim, ans, primals, sets, params):
    a, b = (tuple(shape_of(p)) for p in primals)
    na, nb = len(a), len(b)
    nbatch = max(na - 2, nb - 2, 0)
    batch = _LETTERS[:nbatch]
    i, k, j = "xyz"
    sa = (batch[nbatch - (na - 2):] + i + k) if na >= 2 else k
    sb = (batch[nbatch - (nb - 2):] + k + j) if nb >= 2 else k
    out = batch + (i if na >= 2 else "") + (j if nb >= 2 else "")
    return _contraction(tr, [sa, sb], [a, b], out, _out_shape(ans), sets)


def _fallback(tr, prim, ans, primals, sets, params):
    """No specific rule: every output element depends on everything its arguments depend on."""
    tracked = [J for J in sets if J is not None]
    if not tracked:
        return None
    U = _union(*[_all_rows(J) for J in tracked])
    if not prim.linear or len(tracked) > 1:     # "linear" may mean multilinear: products of arguments
        tr.interact(U)
    m = math.prod(_out_shape(ans))
    return _gather(U, np.zeros(m, dtype=np.int64))


#: name -> rule. Elementwise primitives without an entry are treated as nonlinear (or linear if so flagged and
#: single-argument); other primitives without an entry get :func:`_fallback`.
RULES = {
    "add": _ew_linear, "subtract": _ew_linear, "negative": _ew_linear, "where": _where,
    "multiply": _multiply, "divide": _divide, "power": _power,
    "absolute": _ew_piecewise, "maximum": _ew_piecewise, "minimum": _ew_piecewise,
    "reshape": _structural, "transpose": _structural, "broadcast_to": _structural, "getitem": _structural,
    "scatter_add": _scatter_add, "concatenate": _concatenate,
    "sum": _sum, "amax": _extreme, "amin": _extreme, "cumsum_last": _cumsum,
    "prod_last": _last_nonlinear, "cumprod_last": _last_nonlinear,
    "matmul": _matmul, "einsum": _einsum,
}
for _name, _p in PRIMITIVES.items():
    if _name not in RULES and _p.elementwise:
        RULES[_name] = _ew_nonlinear if not _p.linear else _ew_multilinear
