"""Pytrees, the implementation of :mod:`hodiff.tree` (whose docstring defines them): flatten a nesting of dicts,
lists, tuples, namedtuples and ``None`` to its leaves and rebuild it.

On the ground floor: plain Python and numpy, no engine import, so hodiff values are simply leaves here. The
transform boundary (``_src/transforms/boundary.py``) flattens arguments with it; ``pytree_nest.py`` adds leaf checks,
raveling and nested Jacobians.

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
from __future__ import annotations

import collections
from typing import Any, Callable, Hashable, NamedTuple, Sequence

import numpy as np

__all__ = [
    "Attr",
    "Index",
    "Key",
    "TreeDef",
    "flatten",
    "flatten_with_path",
    "leaves",
    "map",
    "path_str",
    "register",
    "structure",
    "unflatten",
]


# ---------------------------------------------------------------------------------------------------------------------
# Path entries

class Key(NamedTuple):
    """A dict key in a path, rendered ``["name"]`` (strings) or ``[repr(key)]``."""

    key: Hashable

    def __str__(self) -> str:
        k = self.key
        if isinstance(k, str):
            return '["' + k.replace("\\", "\\\\").replace('"', '\\"') + '"]'
        return f"[{k!r}]"


class Index(NamedTuple):
    """A position in a list, a tuple or a registered class's children, rendered ``[i]``."""

    # the field shadows ``tuple.index`` on purpose: ``Index(3).index`` reads as the position it names
    index: int  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"[{self.index}]"


class Attr(NamedTuple):
    """A namedtuple field in a path, rendered ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


def path_str(path: Sequence[Any], root: str = "params") -> str:
    """Render a leaf path for a message: ``path_str((Key("layers"), Index(1), Index(0)))`` is
    ``'params["layers"][1][0]'``.

    Parameters
    ----------
    path : sequence of Key, Index or Attr
        As given by :func:`flatten_with_path` (the empty path is the root itself).
    root : str
        The name the root is shown with.

    Examples
    --------
    >>> path_str((Key("layers"), Index(1), Index(0)))
    'params["layers"][1][0]'
    >>> path_str((), root="x")
    'x'
    """
    return root + "".join(str(p) for p in path)


# ---------------------------------------------------------------------------------------------------------------------
# Registry and node kinds

_REGISTRY: dict[type, tuple[Callable, Callable]] = {}
_LEAF = "leaf"


class _NamedTupleTag:
    """The data of a namedtuple node (a singleton, so no registered class's aux data can be mistaken for it)."""

    def __repr__(self) -> str:
        return "namedtuple"


_NAMEDTUPLE = _NamedTupleTag()


def register(cls: type, flatten_fn: Callable[[Any], tuple[Sequence[Any], Hashable]],
             unflatten_fn: Callable[[Hashable, list], Any]) -> None:
    """Make instances of ``cls`` pytree containers.

    Parameters
    ----------
    cls : type
        The class (exact type: subclasses are not covered unless registered too).
    flatten_fn : callable
        ``flatten_fn(obj) -> (children, aux)``: the subtrees it holds, in a fixed order, and any static data
        needed to rebuild it. ``aux`` must be hashable and comparable: it is part of the structure.
    unflatten_fn : callable
        ``unflatten_fn(aux, children) -> obj``, rebuilding an instance from ``aux`` and a list of children.

    Notes
    -----
    Registering a class again replaces its functions (re-running a notebook cell is fine).

    Examples
    --------
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register(Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
    >>> len(leaves(Pair(1.0, [2.0, 3.0])))
    3
    """
    if not isinstance(cls, type):
        raise TypeError(f"register needs a class, got {cls!r}")
    if cls in (dict, list, tuple, type(None), collections.OrderedDict, collections.defaultdict):
        raise ValueError(f"{cls.__name__} is already a pytree container")
    if cls in _LEAF_TYPES:
        raise ValueError(f"{cls.__name__} values are always leaves")
    if not (callable(flatten_fn) and callable(unflatten_fn)):
        raise TypeError("register(cls, flatten_fn, unflatten_fn): both functions must be callable")
    _REGISTRY[cls] = (flatten_fn, unflatten_fn)


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:
        # keys Python cannot compare with each other: group by type, then sort within a type (by repr if need be)
        groups: dict[str, list] = {}
        for k in d:
            groups.setdefault(f"{type(k).__module__}.{type(k).__qualname__}", []).append(k)
        out = []
        for name in sorted(groups):
            try:
                out.extend(sorted(groups[name]))
            except TypeError:
                out.extend(sorted(groups[name], key=repr))
        return tuple(out)


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


# ---------------------------------------------------------------------------------------------------------------------
# TreeDef

class TreeDef:
    """The structure of a pytree without its leaves.

    Two treedefs are equal (and hash equal) when their structures are: same container types, same dict keys (in any
    insertion order), same namedtuple classes and registered classes with equal ``aux`` data.

    Attributes
    ----------
    num_leaves : int
        How many leaves a tree of this structure holds.
    """

    __slots__ = ("kind", "data", "children", "num_leaves", "_order", "_hash")

    def __init__(self, kind, data=None, children: tuple = (), order=None, num_leaves=None):
        self.kind = kind            # _LEAF, dict, OrderedDict, defaultdict, list, tuple, None, a namedtuple/registered
        self.data = data            # sorted keys (dicts), aux data (registered classes), default_factory, ...
        self.children = children
        if num_leaves is None:
            num_leaves = 1 if kind is _LEAF else sum(c.num_leaves for c in children)
        self.num_leaves = num_leaves
        self._order = order         # a dict's insertion order (not part of the structure)
        self._hash: int | None = None

    def _key(self):
        return (self.kind, self.data, self.children)

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if not isinstance(other, TreeDef):
            return NotImplemented
        return self.num_leaves == other.num_leaves and self._key() == other._key()

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash(self._key())
        return h

    def __repr__(self) -> str:
        return f"TreeDef({self._repr()})"

    def _repr(self) -> str:
        k, ch = self.kind, self.children
        if k is _LEAF:
            return "*"
        if k is None:
            return "None"
        if k is list:
            return "[" + ", ".join(c._repr() for c in ch) + "]"
        if k is tuple:
            return "(" + ", ".join(c._repr() for c in ch) + ("," if len(ch) == 1 else "") + ")"
        if k in (dict, collections.OrderedDict, collections.defaultdict):
            keys = self.data[1] if k is collections.defaultdict else self.data
            body = "{" + ", ".join(f"{key!r}: {c._repr()}" for key, c in zip(keys, ch)) + "}"
            return body if k is dict else f"{k.__name__}({body})"
        if self.data is _NAMEDTUPLE:
            return f"{k.__name__}(" + ", ".join(f"{f}={c._repr()}" for f, c in zip(k._fields, ch)) + ")"
        return f"{k.__name__}[{self.data!r}](" + ", ".join(c._repr() for c in ch) + ")"

    def _entries(self) -> tuple:
        """The path entry of each child."""
        k = self.kind
        if k in (dict, collections.OrderedDict):
            return tuple(Key(key) for key in self.data)
        if k is collections.defaultdict:
            return tuple(Key(key) for key in self.data[1])
        if self.data is _NAMEDTUPLE:
            return tuple(Attr(f) for f in k._fields)
        return tuple(Index(i) for i in range(len(self.children)))

    def _describe(self) -> str:
        k = self.kind
        if k is _LEAF:
            return "a leaf"
        if k is None:
            return "None"
        if k in (dict, collections.OrderedDict, collections.defaultdict):
            keys = self.data[1] if k is collections.defaultdict else self.data
            return f"a {k.__name__} with keys {list(keys)!r}"
        if k in (list, tuple):
            return f"a {k.__name__} of length {len(self.children)}"
        if self.data is _NAMEDTUPLE:
            return f"a {k.__name__} namedtuple"
        return f"a {k.__name__} (aux data {self.data!r})"

    def paths(self) -> list[tuple]:
        """The path of every leaf, in leaf order."""
        out: list[tuple] = []
        self._paths((), out)
        return out

    def _paths(self, prefix: tuple, out: list) -> None:
        if self.kind is _LEAF:
            out.append(prefix)
            return
        for e, c in zip(self._entries(), self.children):
            c._paths(prefix + (e,), out)

    def _build(self, it):
        k = self.kind
        if k is _LEAF:
            return next(it)
        if k is None:
            return None
        vals = [c._build(it) for c in self.children]
        if k is list:
            return vals
        if k is tuple:
            return tuple(vals)
        if k is dict:
            d = dict(zip(self.data, vals))
            return d if self._order is None else {key: d[key] for key in self._order}
        if k is collections.OrderedDict:
            return collections.OrderedDict(zip(self.data, vals))
        if k is collections.defaultdict:
            d = dict(zip(self.data[1], vals))
            keys = self._order if self._order is not None else self.data[1]
            return collections.defaultdict(self.data[0], ((key, d[key]) for key in keys))
        if self.data is _NAMEDTUPLE:
            return k(*vals)
        return _REGISTRY[k][1](self.data, vals)


_LEAF_DEF = TreeDef(_LEAF)
_NONE_DEF = TreeDef(None)
_LEAF_TYPES = frozenset([np.ndarray, np.float64, np.float32, float, int])


def _node(kind, data, items, out, is_leaf, order=None) -> TreeDef:
    start = len(out)
    return TreeDef(kind, data, tuple([_flatten(c, out, is_leaf) for c in items]), order, len(out) - start)


def _flatten(x, out: list, is_leaf) -> TreeDef:
    t = type(x)
    if is_leaf is not None and is_leaf(x):
        out.append(x)
        return _LEAF_DEF
    if t is list or t is tuple:
        return _node(t, None, x, out, is_leaf)
    if t is dict:
        keys = _sorted_keys(x)
        order = tuple(x)
        return _node(dict, keys, [x[k] for k in keys], out, is_leaf, None if order == keys else order)
    if x is None:
        return _NONE_DEF
    if t in _REGISTRY:
        children, aux = _REGISTRY[t][0](x)
        return _node(t, aux, children, out, is_leaf)
    if _is_namedtuple(x):
        return _node(t, _NAMEDTUPLE, x, out, is_leaf)
    if t is collections.OrderedDict:
        keys = tuple(x)
        return _node(t, keys, [x[k] for k in keys], out, is_leaf)
    if t is collections.defaultdict:
        keys = _sorted_keys(x)
        order = tuple(x)
        return _node(t, (x.default_factory, keys), [x[k] for k in keys], out, is_leaf,
                     None if order == keys else order)
    out.append(x)
    return _LEAF_DEF


# ---------------------------------------------------------------------------------------------------------------------
# Public functions

def flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeDef]:
    """Split a pytree into its list of leaves and its structure.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        ``is_leaf(node) -> bool``: nodes for which it is true are taken as leaves, containers or not.

    Returns
    -------
    leaves : list
        The leaves in order: containers in order, dicts in sorted key order (see the module notes).
    treedef : TreeDef
        The structure; ``unflatten(treedef, leaves)`` rebuilds the tree.

    Examples
    --------
    >>> flatten([1.0, (2.0, None), {"b": 3.0, "a": 4.0}])
    ([1.0, 2.0, 4.0, 3.0], TreeDef([*, (*, None), {'a': *, 'b': *}]))
    """
    if is_leaf is None and type(tree) in _LEAF_TYPES:      # the common single-array argument, without the walk
        return [tree], _LEAF_DEF
    out: list = []
    td = _flatten(tree, out, is_leaf)
    return out, td


def unflatten(treedef: TreeDef, leaves: Sequence[Any]) -> Any:
    """Rebuild a pytree of structure ``treedef`` from its leaves (in :func:`flatten`'s order).

    Examples
    --------
    >>> _, td = flatten({"w": 1.0, "b": [2.0, 3.0]})
    >>> unflatten(td, [10.0, 20.0, 30.0])
    {'w': 30.0, 'b': [10.0, 20.0]}
    """
    if not isinstance(treedef, TreeDef):
        raise TypeError(f"unflatten(treedef, leaves): the first argument must be a TreeDef, got {type(treedef)}")
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"unflatten: the structure {treedef!r} holds {treedef.num_leaves} leaves, "
                         f"got {len(leaves)}")
    return treedef._build(iter(leaves))


def leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of a pytree, in :func:`flatten`'s order.

    Examples
    --------
    >>> leaves({"a": [1.0, 2.0], "b": None})
    [1.0, 2.0]
    """
    return flatten(tree, is_leaf)[0]


def structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeDef:
    """The structure (:class:`TreeDef`) of a pytree.

    Examples
    --------
    >>> structure((1.0, [2.0, None]))
    TreeDef((*, [*, None]))
    """
    return flatten(tree, is_leaf)[1]


def flatten_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[tuple], TreeDef]:
    """Like :func:`flatten`, with each leaf paired with its path.

    Returns
    -------
    pairs : list of (path, leaf)
        ``path`` is a tuple of :class:`Key`, :class:`Index` and :class:`Attr` entries (render it with
        :func:`path_str`).
    treedef : TreeDef

    Examples
    --------
    >>> pairs, _ = flatten_with_path({"layers": [(1.0, 2.0)]})
    >>> [path_str(p) for p, _ in pairs]
    ['params["layers"][0][0]', 'params["layers"][0][1]']
    """
    lv, td = flatten(tree, is_leaf)
    return list(zip(td.paths(), lv)), td


def _first_difference(a: TreeDef, b: TreeDef, prefix: tuple = ()):
    """The path of the first node where two structures differ, and what each has there (None if equal)."""
    if a.kind is not b.kind or a.data != b.data or len(a.children) != len(b.children):
        return prefix, a._describe(), b._describe()
    for e, ca, cb in zip(a._entries(), a.children, b.children):
        found = _first_difference(ca, cb, prefix + (e,))
        if found is not None:
            return found
    return None


def map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf by leaf: ``f(leaf, *corresponding leaves of rest)``, rebuilt in ``tree``'s structure.

    Parameters
    ----------
    f : callable
    tree : pytree
    *rest : pytrees
        Trees of the same structure as ``tree`` (dicts may list their keys in another order).
    is_leaf : callable, optional
        As in :func:`flatten` (applied to every tree).

    Raises
    ------
    ValueError
        If a tree of ``rest`` has another structure; the message names the first path where they differ.

    Examples
    --------
    >>> map(lambda p, g: p - 0.1 * g, {"w": 1.0, "b": [2.0]}, {"b": [10.0], "w": 20.0})
    {'w': -1.0, 'b': [1.0]}
    """
    lv, td = flatten(tree, is_leaf)
    others = []
    for i, r in enumerate(rest, start=1):
        rl, rtd = flatten(r, is_leaf)
        if rtd != td:
            path, here, there = _first_difference(td, rtd)
            raise ValueError(f"tree.map: tree {i + 1} has another structure than the first tree: at "
                             f"{path_str(path, 'tree')} the first tree has {here}, tree {i + 1} has {there}")
        others.append(rl)
    return td._build(iter([f(*xs) for xs in zip(lv, *others)]))


