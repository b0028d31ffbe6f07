"""Finding 5 (issue 12 item 5): functions returning None, a string, a generator or a dict get zero derivatives.

Since pytrees landed (issue 10), a dict of arrays is a valid output of every transform but ``derivative`` (which needs
one array): the dict cases now pass when the result is the right dict, and reproduce only on a zero or wrong one."""
import numpy as np

import hodiff as hd
from _check import case, done

x = np.array([1.0, 2.0, 3.0])
for label, f in [("None", lambda x: None), ("a string", lambda x: "abc"),
                 ("a generator", lambda x: (t for t in [x])), ("a dict", lambda x: {"a": np.sum(x)})]:
    for tname, call in [("grad", lambda f: hd.grad(f)(x)), ("hvp", lambda f: hd.hvp(f, x, x)),
                        ("hessian", lambda f: hd.hessian(f)(x)), ("jacfwd", lambda f: hd.jacfwd(f)(x)),
                        ("derivative", lambda f: hd.derivative(f)(1.0))]:
        if label == "a dict" and tname != "derivative":
            want = {"grad": np.ones(3), "hvp": np.zeros(3), "hessian": np.zeros((3, 3)), "jacfwd": np.ones(3)}[tname]
            case(f"{tname} of a function returning {label}", "an error, or {'a': the derivative of np.sum}",
                 lambda: call(f), lambda got, want=want: not isinstance(got, Exception) and not (
                     isinstance(got, dict) and np.allclose(got["a"], want)))
            continue
        case(f"{tname} of a function returning {label}", "an error naming the output type",
             lambda: call(f), lambda got: not isinstance(got, Exception))
case("jvp of a function returning a dict", "an error (or the tangent cos(x) * x per key), never a zero tangent",
     lambda: hd.jvp(lambda x: {"a": np.sin(x)}, (x,), (x,)),
     lambda got: not isinstance(got, Exception) and not np.allclose(got[1]["a"], np.cos(x) * x))
done()
