"""MkDocs hooks (``hooks:`` in ``mkdocs.yml``): pages generated from the code at build time, so they cannot drift.

* ``docs/api.md`` holds the marker ``<!-- generated: api -->``; it is replaced by one ``::: hodiff.NAME``
  directive per public function and class of ``hodiff.__all__`` (mkdocstrings then renders each from its
  docstring). The core names are grouped by hand below; every other public function lands in the "numpy-like
  functions" section, so a name added to ``hodiff.__all__`` appears in the reference without editing the docs.
* ``docs/scipy.md`` holds ``<!-- generated: scipy -->``, replaced by the tables of ``hodiff.scipy``'s functions that
  ``hodiff.scipy._catalog.markdown()`` finds by running each function in each mode against finite differences.
* ``docs/supported.md`` holds ``<!-- generated: supported -->``, replaced by the table of supported numpy/scipy
  functions that ``hodiff._src.numpy.support.supported_markdown()`` builds from the dispatch registries.

To see what a page gets: ``python docs/hooks.py api`` (or ``supported``, ``scipy``).

The math is rendered at build time too: ``pymdownx.arithmatex`` marks ``\\(...\\)`` and ``\\[...\\]``, and
:func:`on_page_content` turns each into MathML with ``latex2mathml``, which browsers display natively, so a local or
air-gapped copy of the site needs no script from the network.
"""
from __future__ import annotations

import html as _html
import inspect
import re
import sys

import hodiff

TENSOR_MEMBERS = ["is_leaf", "grad_fn", "data", "requires_grad_", "attach_grad", "retain_grad", "backward", "detach",
                  "zero_", "numpy", "copy", "clone", "astype", "item", "tolist", "norm"]

SECTIONS = [
    ("Tensors (PyTorch and MXNet style)", None, ["Tensor"]),
    ("Making tensors", "sub", ["tensor", "arange", "zeros", "ones", "zeros_like", "ones_like", "full", "eye",
                               "linspace", "randn", "rand", "manual_seed"]),
    ("Recording switches", "sub", ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]),
    ("The autograd module (MXNet style)", None, ["autograd"]),
    ("Function transforms (JAX / HIPS-autograd style)", None,
     ["grad", "value_and_grad", "jvp", "vjp", "hvp", "hessian", "jacfwd", "jacrev", "jacobian", "derivative",
      "taylor"]),
    ("Linearization and Hessian operators", None, ["linearize", "hessian_operator", "hessian_chunks"]),
    ("Checking derivatives", None, ["check"]),
    ("Custom derivatives", None, ["custom_jvp", "custom_vjp", "primitive", "check_rules", "CustomFunction",
                                  "fixed_point"]),
    ("More transforms", None, ["elementwise_grad"]),
    ("Dual numbers and Taylor jets", None, ["Dual", "Jet"]),
]
ENGINE = ["Primitive", "bind", "register_function", "HodiffError", "EscapedBoxError"]
SUBMODULES = ["linalg", "special", "cost", "optimize", "sparse", "tree", "random", "custom", "implicit", "scipy"]


NUMPY_INTRO = """\
## numpy-like functions

Calling numpy on hodiff values (`np.sin(x)`, `np.sum(x, axis=0)`, `A @ x`) runs these, so ordinary numpy code is
differentiated unchanged; call them as `hd.NAME` when you prefer. [Supported functions](supported.md) lists which
numpy or scipy function goes where. A numpy function that hodiff has no rule for raises an error naming it when it
meets a value being differentiated.
"""

ENGINE_INTRO = """\
## The engine

Every differentiable operation is one entry of the primitive table, `hd.PRIMITIVES` (a dict from name to
[`Primitive`][hodiff.Primitive]); [`bind`][hodiff.bind] is the one way a primitive is applied.
"""


def _is_documentable(obj):
    return inspect.isfunction(obj) or inspect.isclass(obj) or callable(obj)


def render():
    public = list(hodiff.__all__)
    placed = set()
    out = []

    for title, level, names in SECTIONS:
        out.append(f"\n{'###' if level == 'sub' else '##'} {title}\n")
        for name in names:
            if name not in public:
                continue
            placed.add(name)
            sub = 4 if level == "sub" else None
            if name == "Tensor":
                out.append(_directive(name, members=TENSOR_MEMBERS, inherited=True, extra=["show_bases: false"]))
            elif name == "Dual":
                out.append(_directive(name, members=False, extra=["show_bases: false"]))
            elif name == "autograd":
                out.append(_directive(name, members=list(hodiff.autograd.__all__), heading_level=3))
            else:
                out.append(_directive(name, heading_level=sub))

    engine = [n for n in ENGINE if n in public]
    placed.update(engine)
    placed.update(n for n in SUBMODULES if n in public)
    placed.add("PRIMITIVES")

    rest = sorted((n for n in public if n not in placed and _is_documentable(getattr(hodiff, n))
                   and not inspect.ismodule(getattr(hodiff, n))), key=str.lower)
    out.append("\n" + NUMPY_INTRO)
    for name in rest:
        out.append(_directive(name))

    mods = [n for n in SUBMODULES if n in public]
    if mods:
        out.append("\n## Submodules\n")
        for name in mods:
            mod = getattr(hodiff, name)
            out.append(_directive(name, members=list(getattr(mod, "__all__", [])), heading_level=3))

    out.append("\n" + ENGINE_INTRO)
    for name in engine:
        out.append(_directive(name))

    others = [n for n in public if n not in placed and n not in rest and not inspect.ismodule(getattr(hodiff, n))]
    if others:
        out.append("\n## Other public names\n")
        for name in others:
            out.append(f"- `hd.{name}`")
    return "\n".join(out).rstrip() + "\n"


def _directive(name, members=None, inherited=False, heading_level=None, extra=()):
    lines = [f"::: hodiff.{name}"]
    opts = [f"      {e}" for e in extra]
    if heading_level is not None:
        opts.append(f"      heading_level: {heading_level}")
    if inherited:
        opts.append("      inherited_members: true")
    if members is False:
        opts.append("      members: false")
    elif members is not None:
        opts.append("      members:")
        opts.extend(f"        - {m}" for m in members)
    if opts:
        lines += ["    options:"] + opts
    return "\n".join(lines) + "\n"


GENERATORS = {"api": lambda: render(), "supported": lambda: render_supported(), "scipy": lambda: render_scipy()}
MARKER = "<!-- generated: {} -->"


def render_supported():
    from hodiff._src.numpy.support import supported_markdown
    return supported_markdown()


def render_scipy():
    """The tables of ``docs/scipy.md``: every ``hodiff.scipy`` function run in every mode (a few seconds)."""
    from hodiff.scipy._catalog import markdown
    return markdown()


def on_page_markdown(markdown, page, config, files, **kwargs):
    """MkDocs event: fill in the generated parts of a page."""
    for key, make in GENERATORS.items():
        marker = MARKER.format(key)
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown


if __name__ == "__main__":
    print(GENERATORS[sys.argv[1] if len(sys.argv) > 1 else "api"]())


_MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)


def _to_mathml(match):
    from latex2mathml.converter import convert   # a docs-toolchain dependency, needed only while building

    tag, body = match.group(1), _html.unescape(match.group(2)).strip()
    display = tag == "div"
    tex = body[2:-2] if body[:2] in ("\\(", "\\[") else body
    try:
        ml = convert(tex, display="block" if display else "inline")
    except Exception as e:  # noqa: BLE001 - name the formula that failed, the build must not pass silently
        raise ValueError(f"latex2mathml could not convert the formula {tex!r}: {e}") from e
    return f'<{tag} class="math">{ml}</{tag}>'


def on_page_content(html, page, config, files, **kwargs):
    """MkDocs event: TeX marked by arithmatex becomes MathML, so the math renders offline."""
    return _MATH.sub(_to_mathml, html)
