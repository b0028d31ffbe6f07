"""Finding 6 (issue 12 item 6): complex directions on a real point are cast to real (a numpy warning only)."""
import numpy as np

import hodiff as hd
from _check import case, done

x = np.array([1.0, 2.0, 3.0])
v = np.array([1j, 0, 0])


def f(x):
    return np.sum(x ** 3)


case("hd.hvp(f, x, 1j e0)", "an error refusing complex directions (true value 6j e0)",
     lambda: hd.hvp(f, x, v), lambda got: not isinstance(got, Exception))
case("hd.jvp(f, (x,), (1j e0,))", "an error (true tangent 3j)",
     lambda: hd.jvp(f, (x,), (v,)), lambda got: not isinstance(got, Exception))
case("hd.taylor(f, x, 1j e0, order=2)", "an error (true coefficients [36, 3j, -3])",
     lambda: hd.taylor(f, x, v, order=2), lambda got: not isinstance(got, Exception))
done()
