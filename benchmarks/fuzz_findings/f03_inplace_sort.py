"""Finding 3 (issue 12 item 3): ``y.sort()`` on a traced value returns a sorted copy and leaves ``y`` unsorted."""
import numpy as np

import hodiff as hd
from _check import case, done, isclose


def f(x):
    y = x * 1.0
    y.sort()            # numpy sorts in place and returns None
    return y[0]


x = np.array([3.0, 1.0, 2.0])
case("y = x * 1; y.sort(); y[0]: value and gradient", "(1.0, [0, 1, 0]) (numpy: f(x) = 1.0)",
     lambda: hd.value_and_grad(f)(x), lambda got: not (isclose(got[0], f(x)) and isclose(got[1], [0, 1, 0])))
done()
