"""Primitive-table entries for the Bessel functions of ``hodiff.scipy.special`` (derivatives in ``x``).

Conventions as in ``_special_table.py``. The order (``v`` or ``n``) is a keyword parameter, not differentiated, like
``n`` of ``polygamma``. Derivatives come from the recurrences (DLMF 10.6.1, 10.29.1, 10.29.2)

    C_v'(x) = (C_{v-1}(x) - C_{v+1}(x)) / 2       (C = J, Y)
    I_v'(x) = (I_{v-1}(x) + I_{v+1}(x)) / 2
    K_v'(x) = -(K_{v-1}(x) + K_{v+1}(x)) / 2

written with the primitives themselves, so every order nests. The exponentially scaled forms ``ive = iv e^-|x|`` and
``kve = kv e^x`` add the derivative of the scale factor.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp

import hodiff as hd

from ._special_table import _SHAPES_1, elementwise, unary_domain

__all__: list[str] = []

_ORDERS = (0.0, 1.0, 2.0, 3.0, 0.5, 1.5, -0.5, 2.5)
_INT_ORDERS = (0, 1, 2, 3, -1)


def _order_domain(lo, hi, orders, name="v"):
    """x uniform in (lo, hi); the order a scalar from ``orders`` or, sometimes, an array that broadcasts with x."""
    def draw(rng):
        shape = _SHAPES_1[rng.integers(len(_SHAPES_1))]
        x = rng.uniform(lo, hi, size=shape)
        if shape and rng.integers(2):
            order = np.asarray(rng.choice(orders, size=shape[-1:]))
        else:
            order = orders[rng.integers(len(orders))]
        return (x,), {name: order}
    return draw


def _half(a):
    return hd.multiply(0.5, a)


def _sign(x):
    """sign(x) as a plain array: a piecewise-constant factor (the derivative of |x| away from 0)."""
    return np.sign(hd.stop_gradient(x))   # under hd.jit a staged value: the sign is recorded, not frozen


def _bind(prim, x, **params):
    return hd.bind(prim, x, **params)


# ------------------------------------------------------------------------------------------------------------------
# real order v (keyword parameter)

jv: hd.Primitive = elementwise("jv", lambda x, v: sp.jv(v, x),
                 (lambda ans, x, v: _half(hd.subtract(_bind(jv, x, v=v - 1), _bind(jv, x, v=v + 1))),),
                 _order_domain(0.5, 6.0, _ORDERS))
yv: hd.Primitive = elementwise("yv", lambda x, v: sp.yv(v, x),
                 (lambda ans, x, v: _half(hd.subtract(_bind(yv, x, v=v - 1), _bind(yv, x, v=v + 1))),),
                 _order_domain(0.5, 6.0, _ORDERS))
iv: hd.Primitive = elementwise("iv", lambda x, v: sp.iv(v, x),
                 (lambda ans, x, v: _half(hd.add(_bind(iv, x, v=v - 1), _bind(iv, x, v=v + 1))),),
                 _order_domain(0.3, 4.0, _ORDERS))
kv: hd.Primitive = elementwise("kv", lambda x, v: sp.kv(v, x),
                 (lambda ans, x, v: hd.negative(_half(hd.add(_bind(kv, x, v=v - 1), _bind(kv, x, v=v + 1)))),),
                 _order_domain(0.3, 4.0, _ORDERS))
ive: hd.Primitive = elementwise("ive", lambda x, v: sp.ive(v, x),
                  (lambda ans, x, v: hd.subtract(_half(hd.add(_bind(ive, x, v=v - 1), _bind(ive, x, v=v + 1))),
                                                 hd.multiply(_sign(x), ans)),),
                  _order_domain(0.3, 4.0, _ORDERS))
kve: hd.Primitive = elementwise("kve", lambda x, v: sp.kve(v, x),
                  (lambda ans, x, v: hd.subtract(ans, _half(hd.add(_bind(kve, x, v=v - 1), _bind(kve, x, v=v + 1)))),),
                  _order_domain(0.3, 4.0, _ORDERS))
# integer order n: scipy's own ufunc (yn differs from yv in its algorithm, so its values are its own)
yn: hd.Primitive = elementwise("yn", lambda x, n: sp.yn(n, x),
                 (lambda ans, x, n: _half(hd.subtract(_bind(yn, x, n=n - 1), _bind(yn, x, n=n + 1))),),
                 _order_domain(0.5, 6.0, _INT_ORDERS, name="n"))

# ------------------------------------------------------------------------------------------------------------------
# fixed orders 0 and 1: scipy's dedicated ufuncs, derivatives through each other and the order-2 function

j0 = elementwise("j0", sp.j0, (lambda ans, x: hd.negative(hd.bind(j1, x)),), unary_domain(-6.0, 6.0))
j1: hd.Primitive = elementwise("j1", sp.j1, (lambda ans, x: _half(hd.subtract(hd.bind(j0, x), _bind(jv, x, v=2.0))),),
                 unary_domain(-6.0, 6.0))
y0 = elementwise("y0", sp.y0, (lambda ans, x: hd.negative(hd.bind(y1, x)),), unary_domain(0.5, 6.0))
y1: hd.Primitive = elementwise("y1", sp.y1, (lambda ans, x: _half(hd.subtract(hd.bind(y0, x), _bind(yv, x, v=2.0))),),
                 unary_domain(0.5, 6.0))
i0 = elementwise("i0", sp.i0, (lambda ans, x: hd.bind(i1, x),), unary_domain(-4.0, 4.0))
i1: hd.Primitive = elementwise("i1", sp.i1, (lambda ans, x: _half(hd.add(hd.bind(i0, x), _bind(iv, x, v=2.0))),),
                 unary_domain(-4.0, 4.0))
k0 = elementwise("k0", sp.k0, (lambda ans, x: hd.negative(hd.bind(k1, x)),), unary_domain(0.3, 4.0))
k1: hd.Primitive = elementwise("k1", sp.k1,
                               (lambda ans, x: hd.negative(_half(hd.add(hd.bind(k0, x), _bind(kv, x, v=2.0)))),),
                               unary_domain(0.3, 4.0))
# scaled: i0e = i0 e^-|x|, k0e = k0 e^x, ...
i0e = elementwise("i0e", sp.i0e, (lambda ans, x: hd.subtract(hd.bind(i1e, x), hd.multiply(_sign(x), ans)),),
                  unary_domain(0.2, 4.0, signed=True))
i1e: hd.Primitive = elementwise("i1e", sp.i1e,
                  (lambda ans, x: hd.subtract(_half(hd.add(hd.bind(i0e, x), _bind(ive, x, v=2.0))),
                                              hd.multiply(_sign(x), ans)),),
                  unary_domain(0.2, 4.0, signed=True))
k0e = elementwise("k0e", sp.k0e, (lambda ans, x: hd.subtract(ans, hd.bind(k1e, x)),), unary_domain(0.3, 4.0))
k1e: hd.Primitive = elementwise("k1e", sp.k1e,
                  (lambda ans, x: hd.subtract(ans, _half(hd.add(hd.bind(k0e, x), _bind(kve, x, v=2.0)))),),
                  unary_domain(0.3, 4.0))
kn: hd.Primitive = elementwise("kn", lambda x, n: sp.kn(n, x),
                 (lambda ans, x, n: hd.negative(_half(hd.add(_bind(kn, x, n=n - 1), _bind(kn, x, n=n + 1)))),),
                 _order_domain(0.3, 4.0, _INT_ORDERS, name="n"))
