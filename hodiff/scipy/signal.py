"""``hodiff.scipy.signal``: ``scipy.signal``'s convolutions, differentiable in both inputs to any order.

``convolve``, ``correlate`` and ``fftconvolve`` keep scipy's names, signatures and results (values agree with scipy's
on the same inputs to rounding). All three are crops of one primitive of the table, ``convolve_full``: the full
N-d convolution along some axes (``axes``), with the remaining axes broadcast as in ``fftconvolve``, computed by
scipy's direct or FFT method (``method``). The convolution is bilinear, so its tangent is
``conv(ta, b) + conv(a, tb)`` and its cotangents are correlations, ``conv(g, flip(b))`` cropped to ``a``'s extent
(and the same for ``b``): both are written with the primitive itself, so they nest to any order. Batched tangents
ride along a leading broadcast axis.

Real inputs only: a complex input raises ``TypeError``. Integer inputs that carry no derivative are handed to scipy
unchanged (so their results keep scipy's integer dtype).
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.signal as ss
from numpy.typing import ArrayLike

import hodiff as hd

__all__ = ["convolve", "correlate", "fftconvolve"]

_BOXES = (hd.Dual, hd.Tensor, hd.Jet)
_MODES = ("full", "valid", "same")


def _shape(x) -> tuple:
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else np.shape(x)


def _reshape(x, shape):
    return x.reshape(shape) if isinstance(x, _BOXES) else np.reshape(x, shape)


# ---------------------------------------------------------------------------------------------------------------
# the primitive


def _direct_full(a, b, axes):
    """Full direct convolution along ``axes``, the other axes broadcast (one scipy call per broadcast position
    unless every such axis has length 1 in one operand, where a full convolution along it is the broadcast)."""
    nd = a.ndim
    other = [i for i in range(-nd, 0) if i not in axes]
    if all(min(a.shape[i], b.shape[i]) == 1 for i in other):
        return ss.convolve(a, b, mode="full", method="direct")
    lead = tuple(max(a.shape[i], b.shape[i]) for i in other)
    a = np.moveaxis(a, other, range(len(other)))
    b = np.moveaxis(b, other, range(len(other)))
    out = None
    for pos in itertools.product(*(range(n) for n in lead)):
        ia = tuple(p if a.shape[k] > 1 else 0 for k, p in enumerate(pos))
        ib = tuple(p if b.shape[k] > 1 else 0 for k, p in enumerate(pos))
        r = ss.convolve(a[ia], b[ib], mode="full", method="direct")
        if out is None:
            out = np.empty(lead + r.shape, dtype=r.dtype)
        out[pos] = r
    return np.moveaxis(out, range(len(other)), other)


def _conv_impl(a, b, axes, method):
    a, b = np.asarray(a), np.asarray(b)
    if method == "fft":
        return ss.fftconvolve(a, b, mode="full", axes=[i % a.ndim for i in axes])
    return _direct_full(a, b, axes)


def _with_lead(x, k: int):
    """``x`` with ``k`` leading unit axes: it then broadcasts against a tangent carrying ``k`` batch axes."""
    return x if k == 0 else _reshape(x, (1,) * k + _shape(x))


def _flip(x, axes):
    return hd.getitem(x, tuple(slice(None, None, -1) if i - len(_shape(x)) in axes else slice(None)
                               for i in range(len(_shape(x)))))


def _crop_to(full, axes, starts, lengths):
    nd = len(_shape(full))
    idx = [slice(None)] * nd
    for ax, s, n in zip(axes, starts, lengths):
        idx[ax % nd] = slice(s, s + n)
    return hd.getitem(full, tuple(idx))


def _vjp(g, x, other, axes, method):
    """Cotangent of the operand ``x`` of ``conv(x, other)``: the correlation of ``g`` with ``other`` over ``x``'s
    extent (the valid part of ``conv(g, flip(other))``)."""
    full = conv_full(g, _flip(other, axes), axes, method)
    so, sx = _shape(other), _shape(x)
    return _crop_to(full, axes, [so[i] - 1 for i in axes], [sx[i] for i in axes])


def _conv_domain(rng):
    case = int(rng.integers(4))
    if case == 0:
        sa, sb, axes = (int(rng.integers(2, 6)),), (int(rng.integers(1, 4)),), (-1,)
    elif case == 1:
        sa, sb, axes = (3, 4), (2, 2), (-2, -1)
    elif case == 2:   # one convolved axis, one broadcast axis
        sa, sb, axes = (2, 4), (1, 3), (-1,)
    else:
        sa, sb, axes = (3, 1, 3), (3, 2, 2), (-2, -1)
    method = ["direct", "fft"][rng.integers(2)]
    return (rng.standard_normal(sa), rng.standard_normal(sb)), {"axes": axes, "method": method}


def _conv_cost(ans, a, b, axes, method):
    na, nb, no = (int(np.prod(_shape(x))) for x in (a, b, ans))
    flops = 2 * na * nb if method == "direct" else int(10 * no * max(1.0, np.log2(max(no, 2))))
    return flops, 8 * (na + nb + no)


_conv = hd.Primitive(
    "convolve_full", _conv_impl,
    (lambda t, ans, a, b, axes, method: conv_full(t, _with_lead(b, len(_shape(t)) - len(_shape(a))), axes, method),
     lambda t, ans, a, b, axes, method: conv_full(_with_lead(a, len(_shape(t)) - len(_shape(b))), t, axes, method)),
    (lambda g, ans, a, b, axes, method: _vjp(g, a, b, axes, method),
     lambda g, ans, a, b, axes, method: _vjp(g, b, a, axes, method)),
    linear=True, cost=_conv_cost, domain=_conv_domain,
    doc="Full N-d convolution along `axes` (others broadcast), scipy's direct or FFT method.")


def conv_full(a, b, axes, method: str):
    """The full convolution of ``a`` and ``b`` (same number of dimensions) along ``axes`` (negative ints), the
    other axes broadcast, by scipy's ``method`` (``'direct'`` or ``'fft'``): the primitive ``convolve_full``."""
    return hd.bind(_conv, a, b, axes=tuple(axes), method=method)


# ---------------------------------------------------------------------------------------------------------------
# scipy's functions


def _inputs(in1, in2, fname: str):
    out = []
    for name, x in (("in1", in1), ("in2", in2)):
        if not isinstance(x, _BOXES):
            x = np.asarray(x)
        if np.iscomplexobj(hd.stop_gradient(x)):
            raise TypeError(f"hodiff.scipy.signal.{fname}: {name} is complex; hodiff differentiates real "
                            f"convolutions only (call scipy.signal.{fname} directly for complex values, without "
                            "derivatives)")
        out.append(x)
    return out


def _plain_ints(a, b) -> bool:
    return not any(isinstance(x, _BOXES) or x.dtype.kind in "fc" for x in (a, b))


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'.")


def _check_valid(sa, sb, axes):
    """scipy's rule for ``mode='valid'``: one input at least as large as the other along every convolved axis."""
    if not (all(sa[i] >= sb[i] for i in axes) or all(sb[i] >= sa[i] for i in axes)):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in every dimension")


def _crop(full, sa, sb, axes, mode):
    """The part of the full result scipy returns for ``mode`` (sizes of the inputs along the convolved axes)."""
    if mode == "full":
        return full
    if mode == "same":
        return _crop_to(full, axes, [(sb[i] - 1) // 2 for i in axes], [sa[i] for i in axes])
    return _crop_to(full, axes, [min(sa[i], sb[i]) - 1 for i in axes], [abs(sa[i] - sb[i]) + 1 for i in axes])


def _pick_method(a, b, mode, method):
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"Acceptable method flags are 'auto', 'direct', or 'fft'. Got {method!r}.")
    if method == "auto":
        return ss.choose_conv_method(hd.stop_gradient(a), hd.stop_gradient(b), mode=mode)
    return method


def _convolve(in1, in2, mode, method, fname, flip2):
    _check_mode(mode)
    a, b = _inputs(in1, in2, fname)
    sa, sb = _shape(a), _shape(b)
    if len(sa) != len(sb):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if _plain_ints(a, b):   # nothing to differentiate: scipy's own integer arithmetic and dtype
        return getattr(ss, fname)(a, b, mode=mode, method=method)
    if len(sa) == 0:
        return hd.multiply(a, b)
    if 0 in sa or 0 in sb:   # nothing to differentiate: scipy's own result (or error)
        return getattr(ss, fname)(hd.stop_gradient(a), hd.stop_gradient(b), mode=mode, method=method)
    axes = tuple(range(-len(sa), 0))
    if mode == "valid":
        _check_valid(sa, sb, axes)
    method = _pick_method(a, b, mode, method)
    full = conv_full(a, _flip(b, axes) if flip2 else b, axes, method)
    return _crop(full, sa, sb, axes, mode)


def convolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full", method: str = "auto") -> Any:
    """N-dimensional convolution of ``in1`` and ``in2``, as ``scipy.signal.convolve``; differentiable in both.

    Parameters
    ----------
    in1, in2 : array_like
        Real arrays with the same number of dimensions.
    mode : {'full', 'valid', 'same'}
        The full convolution (size ``n1 + n2 - 1`` per axis), the part computed without zero padding (size
        ``|n1 - n2| + 1``; one input must be at least as large as the other along every axis), or the part centred
        like ``in1``.
    method : {'auto', 'direct', 'fft'}
        scipy's method (``'auto'`` chooses as scipy does); the derivative uses the same one.

    Returns
    -------
    out : array

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.signal import convolve
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> hd.grad(lambda k: convolve(np.ones(3), k, mode="valid").sum())(np.array([1.0, 2.0]))
    array([2., 2.])
    """
    return _convolve(in1, in2, mode, method, "convolve", flip2=False)


def correlate(in1: ArrayLike, in2: ArrayLike, mode: str = "full", method: str = "auto") -> Any:
    """N-dimensional cross-correlation of ``in1`` and ``in2``, as ``scipy.signal.correlate``; differentiable in
    both: ``z[k] = sum_l in1[l] in2[l - k + N - 1]``, i.e. the convolution of ``in1`` with ``in2`` reversed along
    every axis, cropped by ``mode`` as :func:`convolve` is.

    Parameters
    ----------
    in1, in2 : array_like
    mode : {'full', 'valid', 'same'}
    method : {'auto', 'direct', 'fft'}

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.signal import correlate
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
    array([2. , 3.5, 3. ])
    """
    return _convolve(in1, in2, mode, method, "correlate", flip2=True)


def fftconvolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full",
                axes: int | Sequence[int] | None = None) -> Any:
    """Convolution by FFT, as ``scipy.signal.fftconvolve``, along ``axes`` (all by default); along the other axes
    the inputs broadcast (equal lengths or 1). Differentiable in both inputs.

    Parameters
    ----------
    in1, in2 : array_like
        Real arrays with the same number of dimensions.
    mode : {'full', 'valid', 'same'}
        As for :func:`convolve`, along ``axes``.
    axes : int or sequence of int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.signal import fftconvolve
    >>> np.round(fftconvolve(np.ones((2, 3)), np.array([[1.0, -1.0]]), axes=1), 12)
    array([[ 1.,  0.,  0., -1.],
           [ 1.,  0.,  0., -1.]])
    """
    _check_mode(mode)
    a, b = _inputs(in1, in2, "fftconvolve")
    sa, sb = _shape(a), _shape(b)
    nd = len(sa)
    if nd != len(sb):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if nd == 0:
        return hd.multiply(a, b)
    if 0 in sa or 0 in sb:
        return ss.fftconvolve(hd.stop_gradient(a), hd.stop_gradient(b), mode=mode, axes=axes)
    if axes is None:
        axes = tuple(range(-nd, 0))
    else:
        ax = [int(i) for i in np.atleast_1d(axes)]
        if any(not -nd <= i < nd for i in ax):
            raise ValueError(f"axes exceeds dimensionality of input (got {axes}, ndim {nd})")
        if len({i % nd for i in ax}) != len(ax):
            raise ValueError("all axes must be unique")
        axes = tuple(sorted(i % nd - nd for i in ax))
    for i in range(-nd, 0):
        if i not in axes and sa[i] != sb[i] and 1 not in (sa[i], sb[i]):
            raise ValueError(f"incompatible shapes for in1 and in2: {sa} and {sb}")
    if mode == "valid":
        _check_valid(sa, sb, axes)
    full = conv_full(a, b, axes, "fft")
    return _crop(full, sa, sb, axes, mode)
