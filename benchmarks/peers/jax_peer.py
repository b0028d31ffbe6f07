"""JAX: op-by-op (no jit) and, for the 'jax-jit' library, jax.jit (compile time excluded by the warm-up calls; the
first call of a freshly made jitted function, trace + compile, is measured separately).

float64 (jax_enable_x64). Inputs are converted to JAX arrays once, outside the timed calls; every timed call blocks
until its result is ready (JAX dispatches asynchronously).
"""
import numpy as np
import problems as P

from peers import Variant

NAME = "jax"
JIT = False


def setup():
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")


def versions():
    import jax
    import jaxlib
    return {"jax": jax.__version__, "jaxlib": jaxlib.__version__}


def _ready(r):
    import jax
    return jax.block_until_ready(r)


def _kind():
    return "jit" if JIT else "eager"


def _variant(label, base, make, args, out=None):
    """The primary variant ``make(base())(*args)``, under jax.jit for 'jax-jit'.

    ``base()`` returns the user function, ``make(f)`` the derivative function of it. For jax-jit the variant also
    carries ``first_call``: a fresh user function (a new Python object, so JAX traces and compiles anew) wrapped in a
    fresh jax.jit, whose first call is timed, against one call of the same computation without jit.
    """
    import jax
    fn = make(base())
    fn = jax.jit(fn) if JIT else fn
    first_call = None
    if JIT:
        eager = make(base())

        def fresh():
            f = base()
            traces = [0]

            def counted(*a):
                traces[0] += 1
                return f(*a)

            jf = jax.jit(make(counted))

            def verify():
                if traces[0] == 0:
                    return "the first call did not trace the function (a cached compilation was reused)"
                n = traces[0]
                _ready(jf(*args))
                return None if traces[0] == n else "the second call traced again"

            return (lambda: _ready(jf(*args))), verify

        first_call = (fresh, lambda: _ready(eager(*args)))
    return Variant(label, lambda: _ready(fn(*args)), out=out, kind=_kind(), primary=True, first_call=first_call)


def _hvp(f):
    import jax
    return lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1]


def p1(x0):
    import jax
    import jax.numpy as jnp
    base = lambda: (lambda x: P.p1_f(x, jnp))
    x = jnp.asarray(x0)
    return {"P1.vg": [_variant("value_and_grad(f)(x)", base, jax.value_and_grad, (x,),
                               out=lambda r: np.asarray(r[1]))],
            "P1.d2": [_variant("grad(grad(f))", base, lambda f: jax.grad(jax.grad(f)), (x,))]}


def p2(x, v):
    import jax
    import jax.numpy as jnp
    base = lambda: (lambda x: P.p2_f(x, jnp))
    xj, vj = jnp.asarray(x), jnp.asarray(v)
    return {"grad": [_variant("grad(f)(x)", base, jax.grad, (xj,))],
            "hvp": [_variant("jvp(grad(f)) (forward-over-reverse)", base, _hvp, (xj, vj))]}


def p3(theta, v, X, Y):
    import jax
    import jax.numpy as jnp
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    base = lambda: (lambda t: P.p3_f(t, jnp, Xj, Yj))
    tj, vj = jnp.asarray(theta), jnp.asarray(v)
    return {"grad": [_variant("grad(f)(theta)", base, jax.grad, (tj,))],
            "hvp": [_variant("jvp(grad(f))", base, _hvp, (tj, vj))]}


def p4(x, A):
    import jax
    import jax.numpy as jnp
    Aj = jnp.asarray(A)
    base = lambda: (lambda x: P.p4_f(x, jnp, Aj))
    xj = jnp.asarray(x)
    return {"hess": [_variant("hessian(f)(x)", base, jax.hessian, (xj,))]}


def p5(x0):
    import jax
    import jax.numpy as jnp
    base = lambda: (lambda x: P.p5_f(x, jnp))
    x = jnp.asarray(x0)
    return {"d3": [_variant("grad(grad(grad(f)))", base, lambda f: jax.grad(jax.grad(jax.grad(f))), (x,))]}
