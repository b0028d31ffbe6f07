"""Part of :mod:`hodiff.tree` (with :mod:`hodiff._src.core.pytree`): leaf checks, raveled views of pytrees, and Jacobians of pytrees nested as JAX nests
them.

:func:`check_leaves` is the boundary's test that every differentiated leaf is floating point. A transform that
works on flat vectors (a dense Jacobian, an optimizer, a finite-difference check) ravels its
arguments into one vector with :func:`ravel` / :class:`Layout`, and turns its ``(m, n)`` matrix back into nested
blocks with :func:`nest_jacobian` / :func:`nest_hessian`: the output's structure outside, the input's structure
inside, each block of shape ``out_leaf.shape + in_leaf.shape``. Pure numpy, no engine import: hodiff values are
leaves like any other, and since numpy calls on them dispatch to hodiff, raveling and slicing them stays
differentiable.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import numpy as np

from .pytree import TreeDef, flatten, path_str, structure, unflatten

__all__ = ["Layout", "check_leaves", "flat_jacobian", "layout", "nest_hessian", "nest_jacobian", "ravel"]


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeio" else "a ") + word


_FLOAT_ADVICE = "derivatives need floating-point leaves (pass np.asarray(..., dtype=float))"


def _leaf_problem(x) -> tuple[str, str] | None:
    """What a leaf is and what to do, when it cannot be differentiated; None when it can."""
    if type(x) is np.ndarray and x.dtype.kind == "f":     # the common case first
        return None
    if isinstance(x, (bool, np.bool_)):
        return f"a bool ({x!r})", _FLOAT_ADVICE
    if isinstance(x, (int, float)) and not isinstance(x, np.generic):
        return None                                   # Python numbers: read as float64 by the transforms
    if isinstance(x, complex):
        return f"a complex number ({x!r})", "complex derivatives are not supported"
    if isinstance(x, (str, bytes)):
        return (f"{_a(type(x).__name__)} ({x!r:.40})", "only arrays and numbers can be differentiated; pass other "
                "data through a closure or an argument that is not differentiated")
    dt = getattr(x, "dtype", None)
    if not isinstance(dt, np.dtype) or not hasattr(x, "shape"):
        name = type(x).__name__
        return (f"{_a(name)} object", f"only arrays and numbers can be differentiated; if {name} holds arrays, make "
                f"it a container with hodiff.tree.register({name}, flatten_fn, unflatten_fn)")
    if dt.kind == "f":
        return None
    kind = "scalar" if isinstance(x, np.generic) else "array"
    if dt.kind == "c":
        return f"{_a(dt.name)} {kind}", "complex derivatives are not supported"
    return f"{_a(dt.name)} {kind}", _FLOAT_ADVICE


def check_leaves(tree: Any, what: str, root_name: str = "params") -> tuple[list, TreeDef]:
    """Refuse, by path, every leaf of ``tree`` that cannot be differentiated.

    Accepted leaves: floating-point arrays and numpy floating scalars (any float dtype), hodiff values with a floating
    dtype, and Python ``int``/``float`` numbers (the transforms read them as float64). Refused: integer, boolean and
    complex arrays or numpy scalars, Python ``bool``, strings, and any other object.

    Parameters
    ----------
    tree : pytree
    what : str
        The caller's name, starting the message (``"grad"``).
    root_name : str
        The name ``tree`` is shown with in paths.

    Returns
    -------
    leaves, treedef
        The flattening of ``tree`` (so the caller need not flatten twice).

    Raises
    ------
    TypeError
        For the first refused leaf, e.g. ``grad: params["layers"][1][0] is an int64 array; derivatives need
        floating-point leaves (pass np.asarray(..., dtype=float))``.

    Examples
    --------
    >>> check_leaves({"w": np.arange(3)}, "grad")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: grad: params["w"] is an int64 array; derivatives need floating-point leaves (pass ...)
    """
    lv, td = flatten(tree)
    for k, x in enumerate(lv):
        problem = _leaf_problem(x)
        if problem is not None:
            raise TypeError(f"{what}: {path_str(td.paths()[k], root_name)} is {problem[0]}; {problem[1]}")
    return lv, td


_PLAIN = (np.ndarray, np.generic, int, float)


def _is_plain(x) -> bool:
    return isinstance(x, _PLAIN)


class Layout:
    """Where each leaf of a pytree sits in its raveled vector.

    Attributes
    ----------
    treedef : TreeDef
        The tree's structure.
    shapes : tuple of tuple of int
        Each leaf's shape.
    dtypes : tuple of numpy.dtype
        Each leaf's dtype (float64 for Python numbers).
    offsets : tuple of int
        Where each leaf starts in the vector; leaf ``i`` is ``flat[offsets[i]:offsets[i] + sizes[i]]``.
    sizes : tuple of int
    size : int
        The vector's length.
    dtype : numpy.dtype
        The vector's dtype: the promotion of the leaves' dtypes (float64 for an empty tree).
    """

    __slots__ = ("treedef", "shapes", "dtypes", "offsets", "sizes", "size", "dtype")

    def __init__(self, treedef: TreeDef, shapes, dtypes):
        self.treedef = treedef
        self.shapes = tuple(tuple(int(d) for d in s) for s in shapes)
        self.dtypes = tuple(np.dtype(d) for d in dtypes)
        self.sizes = tuple(math.prod(s) for s in self.shapes)
        self.offsets = tuple(itertools.accumulate(self.sizes[:-1], initial=0)) if self.sizes else ()
        self.size = sum(self.sizes)
        self.dtype = np.result_type(*self.dtypes) if self.dtypes else np.dtype(np.float64)

    def __repr__(self) -> str:
        return f"Layout({self.treedef!r}, shapes={list(self.shapes)}, size={self.size})"

    def ravel(self, tree: Any) -> Any:
        """The tree's leaves, raveled and concatenated into one vector (the tree must have this structure)."""
        lv, td = flatten(tree)
        if td != self.treedef:
            raise ValueError(f"Layout.ravel: the tree has structure {td!r}, this layout is for {self.treedef!r}")
        for k, (x, shape) in enumerate(zip(lv, self.shapes)):
            if tuple(np.shape(x)) != shape:
                raise ValueError(f"Layout.ravel: {path_str(td.paths()[k], 'tree')} has shape {tuple(np.shape(x))}, "
                                 f"this layout has {shape} there")
        return _concat(lv, self.dtype)

    def unravel(self, flat: Any) -> Any:
        """Rebuild the tree from a vector of length :attr:`size`: each leaf with its shape and (for plain numpy
        vectors) its dtype. 0-d leaves come back as numpy scalars; plain arrays are copies, not views of ``flat``.
        A hodiff value keeps the vector's dtype (converting it would drop its derivative)."""
        shape = tuple(np.shape(flat))
        if shape != (self.size,):
            raise ValueError(f"unravel: expected a vector of shape ({self.size},), got shape {shape}")
        plain = _is_plain(flat)
        out = []
        for o, n, s, dt in zip(self.offsets, self.sizes, self.shapes, self.dtypes):
            if s == ():
                piece = flat[o]
                if plain:
                    piece = piece.astype(dt)[()] if piece.dtype != dt else piece
            else:
                piece = flat[o:o + n].reshape(s)
                if plain:
                    piece = np.array(piece, dtype=dt)
            out.append(piece)
        return unflatten(self.treedef, out)


def _concat(lv: list, dtype) -> Any:
    if not lv:
        return np.zeros(0, dtype=dtype)
    if all(_is_plain(x) for x in lv):
        return np.concatenate([np.ravel(np.asarray(x, dtype=dtype)) for x in lv])
    # hodiff values among the leaves: numpy's functions dispatch to hodiff and keep the derivative
    return np.concatenate([np.reshape(x, (-1,)) for x in lv])


def layout(tree: Any, what: str = "ravel", root_name: str = "tree") -> Layout:
    """The :class:`Layout` of a pytree whose leaves are all floating point.

    Parameters
    ----------
    tree : pytree
    what, root_name : str
        Used in the error message (``"ravel: tree["w"] is an int64 array; ..."``).

    Raises
    ------
    TypeError
        For a leaf that is not floating point (Python ``int`` and ``float`` count as float64), naming its path.
    """
    return _layout(tree, what, root_name)[0]


def _layout(tree, what, root_name) -> tuple[Layout, list]:
    lv, td = flatten(tree)
    shapes, dtypes = [], []
    for k, x in enumerate(lv):
        problem = _leaf_problem(x)
        if problem is not None:
            raise TypeError(f"{what}: {path_str(td.paths()[k], root_name)} is {problem[0]}; a raveled vector needs "
                            "floating-point leaves (pass np.asarray(..., dtype=float))")
        shapes.append(np.shape(x))
        dtypes.append(x.dtype if hasattr(x, "dtype") else np.float64)
    return Layout(td, shapes, dtypes), lv


def ravel(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """One flat vector holding every leaf of a floating-point pytree, and the function that rebuilds the tree.

    Leaves are raveled in C order and concatenated in :func:`~hodiff.tree.flatten`'s order. The vector's dtype is
    the promotion of the leaves' dtypes; ``unravel(v)`` rebuilds the tree with each leaf's shape and dtype.

    Parameters
    ----------
    tree : pytree
        Leaves must be floating point (arrays, numpy floating scalars, hodiff values) or Python numbers.

    Returns
    -------
    flat : array of shape (n,)
    unravel : callable
        ``unravel(v)`` for any vector ``v`` of shape ``(n,)`` (see :meth:`Layout.unravel`).

    Raises
    ------
    TypeError
        For a leaf that is not floating point, naming its path.

    Examples
    --------
    >>> import numpy as np
    >>> flat, unravel = ravel({"w": np.ones((2, 2)), "b": np.float32(3.0)})
    >>> flat
    array([3., 1., 1., 1., 1.])
    >>> unravel(flat * 2)["b"]
    np.float32(6.0)
    """
    lay, lv = _layout(tree, "ravel", "tree")
    return _concat(lv, lay.dtype), lay.unravel


def _as_block(block, shape, plain):
    block = block.reshape(shape)
    if plain:
        return block[()] if shape == () else np.array(block)
    return block


def nest_jacobian(jac: Any, out_layout: Layout, in_layout: Layout) -> Any:
    """Nest a dense Jacobian of raveled vectors: output structure outside, input structure inside.

    For ``f: tree_in -> tree_out`` and ``J = d ravel(f) / d ravel(x)`` of shape ``(out_layout.size,
    in_layout.size)``, returns a tree of ``out_layout``'s structure whose every leaf is a tree of ``in_layout``'s
    structure; the block at output leaf ``o`` and input leaf ``i`` has shape ``shape_o + shape_i`` and holds
    ``d out_o / d in_i``. A single-array output and input give the plain Jacobian array of shape
    ``out.shape + in.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> x = {"a": np.zeros(2), "b": 0.0}
    >>> y = [np.zeros(3)]
    >>> J = nest_jacobian(np.arange(9.0).reshape(3, 3), layout(y), layout(x))
    >>> J[0]["a"].shape, J[0]["b"].shape
    ((3, 2), (3,))
    """
    shape = tuple(np.shape(jac))
    if shape != (out_layout.size, in_layout.size):
        raise ValueError(f"nest_jacobian: expected a matrix of shape ({out_layout.size}, {in_layout.size}) "
                         f"(raveled outputs by raveled inputs), got shape {shape}")
    plain = _is_plain(jac)
    rows = []
    for oo, on, os_ in zip(out_layout.offsets, out_layout.sizes, out_layout.shapes):
        row = jac[oo:oo + on]
        blocks = [_as_block(row[:, io:io + n], os_ + is_, plain)
                  for io, n, is_ in zip(in_layout.offsets, in_layout.sizes, in_layout.shapes)]
        rows.append(unflatten(in_layout.treedef, blocks))
    return unflatten(out_layout.treedef, rows)


def nest_hessian(hess: Any, in_layout: Layout) -> Any:
    """Nest a dense Hessian of a scalar function of a pytree: the input's structure outside and inside.

    ``hess`` has shape ``(n, n)`` with ``n = in_layout.size``; the block for leaves ``i`` (outer) and ``j`` (inner)
    has shape ``shape_i + shape_j`` and holds ``d^2 f / d x_i d x_j``. For ``params = {"W": W, "b": b}`` the result
    is ``{"W": {"W": ..., "b": ...}, "b": {"W": ..., "b": ...}}``.

    Examples
    --------
    >>> import numpy as np
    >>> x = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    >>> H = nest_hessian(np.eye(6), layout(x))
    >>> H["W"]["b"].shape, H["b"]["W"].shape
    ((2, 2, 2), (2, 2, 2))
    """
    return nest_jacobian(hess, in_layout, in_layout)


def flat_jacobian(nested: Any, out_layout: Layout, in_layout: Layout) -> Any:
    """The inverse of :func:`nest_jacobian`: the dense ``(out_layout.size, in_layout.size)`` matrix of a nested
    Jacobian.

    Raises
    ------
    ValueError
        If ``nested`` is not nested as :func:`nest_jacobian` would nest it, or a block has the wrong shape (the
        message names the block).
    """
    expected = structure(unflatten(out_layout.treedef,
                                   [unflatten(in_layout.treedef, [0.0] * in_layout.treedef.num_leaves)]
                                   * out_layout.treedef.num_leaves))
    lv, td = flatten(nested)
    if td != expected:
        raise ValueError(f"flat_jacobian: expected the structure {expected!r} (outputs outside, inputs inside), "
                         f"got {td!r}")
    paths = td.paths()
    rows, k = [], 0
    for on, os_ in zip(out_layout.sizes, out_layout.shapes):
        row = []
        for n, is_ in zip(in_layout.sizes, in_layout.shapes):
            b = lv[k]
            if tuple(np.shape(b)) != os_ + is_:
                raise ValueError(f"flat_jacobian: block {path_str(paths[k], 'jac')} has shape {tuple(np.shape(b))},"
                                 f" expected {os_ + is_}")
            row.append(np.reshape(b, (on, n)))
            k += 1
        rows.append(row)
    if out_layout.size == 0 or in_layout.size == 0:
        dt = np.result_type(*[np.asarray(b).dtype for b in lv]) if lv and all(_is_plain(b) for b in lv) else float
        return np.zeros((out_layout.size, in_layout.size), dtype=dt)
    return np.concatenate([np.concatenate(r, axis=1) for r in rows if r], axis=0)
