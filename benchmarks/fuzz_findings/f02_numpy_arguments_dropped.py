"""Finding 2 (issue 12 item 2): keywords of dispatched numpy functions ignored, value and derivative wrong."""
import numpy as np

import hodiff as hd
from _check import case, done, isclose

x = np.array([1.0, 2.0, 3.0])
mask = np.array([True, False, True])

case("np.add.reduce(x, initial=5.0): value", "11.0 (numpy: np.add.reduce(x, initial=5.0))",
     lambda: hd.value_and_grad(lambda x: np.add.reduce(x, initial=5.0))(x)[0],
     lambda got: not isclose(got, np.add.reduce(x, initial=5.0)))
case("np.add.reduce(x, where=mask): value and gradient", "(4.0, [1, 0, 1])",
     lambda: hd.value_and_grad(lambda x: np.add.reduce(x, where=mask))(x),
     lambda got: not (isclose(got[0], 4.0) and isclose(got[1], [1, 0, 1])))
case("np.add.reduce(x, dtype=np.float32): dtype of the value", "float32 (as numpy)",
     lambda: np.asarray(hd.value_and_grad(lambda x: np.add.reduce(x, dtype=np.float32))(x)[0]).dtype,
     lambda got: got != np.float32)
case("np.full_like(x, x[0]) keeps the derivative: grad of sum", "[3, 0, 0]",
     lambda: hd.grad(lambda x: np.sum(np.full_like(x, x[0])))(x),
     lambda got: not isclose(got, [3, 0, 0]))
done()
