"""Pytrees: nested containers of arrays, flattened to a list of leaves and rebuilt.

The implementation lives in ``hodiff/_src/core/pytree.py`` and ``pytree_nest.py``; this module is its public
face. It sits at the boundary of hodiff's transforms: a transform flattens its differentiated arguments into a list
of arrays (the engine only ever sees flat arrays), checks each leaf, and rebuilds its results in the argument's
structure. It is plain Python and numpy and imports nothing from the engine, so hodiff values (tensors, dual numbers)
are simply leaves to it.

Definition
----------
A **pytree** is a nesting of ``dict``, ``list``, ``tuple``, namedtuples and ``None``. ``None`` is an empty subtree (it
holds no leaf); every other object is a **leaf**: numpy arrays, Python and numpy scalars, hodiff values, and anything
else. Classes registered with :func:`register` are containers too. ``collections.OrderedDict`` and
``collections.defaultdict`` are containers like ``dict``.

Order of leaves
---------------
Lists, tuples and namedtuples give their children in order. A ``dict`` gives its children in **sorted key order**, so
two dicts with the same keys have the same structure and the same leaf order whatever order their keys were inserted
in (keys of mixed types that Python cannot compare are sorted by type name, then by value). The rebuilt dict keeps the
**insertion order of the dict that was flattened** (``unflatten`` with that tree's structure gives the keys back in
the user's order). ``OrderedDict`` is the exception: its order is part of its structure.

Paths
-----
:func:`flatten_with_path` gives each leaf's path, a tuple of :class:`Key` (``["name"]``), :class:`Index` (``[1]``)
and :class:`Attr` (``.name``) entries, rendered for messages by :func:`path_str` as ``params["layers"][1][0]``.

Examples
--------
>>> import numpy as np
>>> from hodiff import tree
>>> params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
>>> leaves, treedef = tree.flatten(params)
>>> [x.shape for x in leaves]          # sorted keys: "b" before "w"
[(3,), (2, 3)]
>>> treedef
TreeDef({'b': *, 'w': *})
>>> flat, unravel = tree.ravel(params)
>>> flat.shape
(9,)
"""
from ._src.core.pytree import Attr, Index, Key, TreeDef, flatten, flatten_with_path, leaves, map, path_str, register, structure, unflatten  # noqa: F401
from ._src.core.pytree_nest import Layout, check_leaves, flat_jacobian, layout, nest_hessian, nest_jacobian, ravel  # noqa: F401

__all__ = [
    "Attr",
    "Index",
    "Key",
    "Layout",
    "TreeDef",
    "check_leaves",
    "flat_jacobian",
    "flatten",
    "flatten_with_path",
    "layout",
    "leaves",
    "map",
    "nest_hessian",
    "nest_jacobian",
    "path_str",
    "ravel",
    "register",
    "structure",
    "unflatten",
]
