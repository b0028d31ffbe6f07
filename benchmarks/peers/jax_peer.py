"""JAX: op-by-op (no jit) and, for the 'jax-jit' library, jax.jit (compile time excluded by the warm-up calls).

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


def _wrap(fn):
    import jax
    return jax.jit(fn) if JIT else fn


def _ready(r):
    import jax
    return jax.block_until_ready(r)


def _kind():
    return "jit" if JIT else "eager"


def p1(x0):
    import jax
    import jax.numpy as jnp
    f = lambda x: P.p1_f(x, jnp)
    vg = _wrap(jax.value_and_grad(f))
    gg = _wrap(jax.grad(jax.grad(f)))
    x = jnp.asarray(x0)
    return {"P1.vg": [Variant("value_and_grad(f)(x)", lambda: _ready(vg(x)), out=lambda r: np.asarray(r[1]),
                              kind=_kind(), primary=True)],
            "P1.d2": [Variant("grad(grad(f))", lambda: _ready(gg(x)), kind=_kind(), primary=True)]}


def p2(x, v):
    import jax
    import jax.numpy as jnp
    f = lambda x: P.p2_f(x, jnp)
    g = _wrap(jax.grad(f))
    hvp = _wrap(lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1])
    xj, vj = jnp.asarray(x), jnp.asarray(v)
    return {"grad": [Variant("grad(f)(x)", lambda: _ready(g(xj)), kind=_kind(), primary=True)],
            "hvp": [Variant("jvp(grad(f)) (forward-over-reverse)", lambda: _ready(hvp(xj, vj)), kind=_kind(),
                            primary=True)]}


def p3(theta, v, X, Y):
    import jax
    import jax.numpy as jnp
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    f = lambda t: P.p3_f(t, jnp, Xj, Yj)
    g = _wrap(jax.grad(f))
    hvp = _wrap(lambda t, v: jax.jvp(jax.grad(f), (t,), (v,))[1])
    tj, vj = jnp.asarray(theta), jnp.asarray(v)
    return {"grad": [Variant("grad(f)(theta)", lambda: _ready(g(tj)), kind=_kind(), primary=True)],
            "hvp": [Variant("jvp(grad(f))", lambda: _ready(hvp(tj, vj)), kind=_kind(), primary=True)]}


def p4(x, A):
    import jax
    import jax.numpy as jnp
    Aj = jnp.asarray(A)
    h = _wrap(jax.hessian(lambda x: P.p4_f(x, jnp, Aj)))
    xj = jnp.asarray(x)
    return {"hess": [Variant("hessian(f)(x)", lambda: _ready(h(xj)), kind=_kind(), primary=True)]}


def p5(x0):
    import jax
    import jax.numpy as jnp
    d3 = _wrap(jax.grad(jax.grad(jax.grad(lambda x: P.p5_f(x, jnp)))))
    x = jnp.asarray(x0)
    return {"d3": [Variant("grad(grad(grad(f)))", lambda: _ready(d3(x)), kind=_kind(), primary=True)]}
