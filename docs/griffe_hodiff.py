"""A griffe extension for hodiff's API reference (loaded by mkdocstrings, see ``mkdocs.yml``).

It only changes how the reference is rendered; hodiff itself is untouched. Two things need help:

1. mkdocstrings reads hodiff's source statically. Many of hodiff's numpy-like functions are not ``def`` statements:
   the primitive table makes them (``sin = _unary("sin", np.sin, jvp_rule, vjp_rule)``), and some public names are
   plain aliases (``abs = absolute``, ``jacobian = jacrev``). Statically these look like module attributes and would
   be rendered as ``sin = _unary(...)``. Every public name (``__all__`` of ``hodiff``, ``hodiff.linalg``,
   ``hodiff.special``, ``hodiff.autograd``) that is a function at run time but an attribute in the source becomes a
   function entry: the signature comes from ``inspect.signature`` of the live object, the docstring from its
   ``__doc__``. A table primitive without a docstring gets a short generated one naming the numpy/scipy function it
   mirrors and quoting its derivative rule from the source.
2. A doctest (``>>>``) outside an ``Examples`` section would render as nested block quotes: it is fenced as
   ``pycon`` code instead.
3. The docstrings use Sphinx roles (``:func:`hodiff.grad```), which mean nothing to Markdown. They become optional
   autorefs links: a link when the target is in the reference, plain code otherwise.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import griffe

_PUBLIC_MODULES = ("hodiff", "hodiff.autograd", "hodiff.linalg", "hodiff.special")

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _parameters(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return griffe.Parameters()
    params = []
    for p in sig.parameters.values():
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        params.append(griffe.Parameter(p.name, kind=_KINDS[p.kind], default=default))
    return griffe.Parameters(*params)


# ------------------------------------------------------------------------------------------------------------------
# generated docstrings for table primitives that have none

_MAKERS_RULES = {"_unary": 1, "_binary": 2}      # name, impl, jvp rule(s), vjp rule(s)
_MAKERS_LOCAL = {"_unary_d": 1, "_binary_d": 2}  # name, impl, local derivative(s)
_PREFIXES = {"np.": "numpy.", "numpy.": "numpy.", "sp.": "scipy.special.", "scipy.special.": "scipy.special."}


def _expr(node):
    return ast.unparse(node.body if isinstance(node, ast.Lambda) else node)


def _argnames(node, skip):
    """The primal argument names a rule's lambda uses (after ``skip`` leading seed/output parameters)."""
    if isinstance(node, ast.Lambda):
        return [a.arg for a in node.args.args[skip:]]
    return None


def _entries(path, _cache={}):
    """``{primitive name: (impl source, kind, [rule sources], argument names)}`` for the maker calls in one source file."""
    path = str(path)
    if path in _cache:
        return _cache[path]
    out = {}
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        tree = None
    for node in ast.walk(tree) if tree is not None else ():
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) >= 3
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            continue
        maker = node.func.id
        if maker in _MAKERS_RULES and len(node.args) >= 4:
            jvps, vjps = node.args[2], node.args[3]
            jvps = jvps.elts if isinstance(jvps, ast.Tuple) else [jvps]
            vjps = vjps.elts if isinstance(vjps, ast.Tuple) else [vjps]
            out[node.args[0].value] = (ast.unparse(node.args[1]), "rules",
                                       [(_expr(j), _expr(v)) for j, v in zip(jvps, vjps)],
                                       _argnames(jvps[0], 2))
        elif maker in _MAKERS_LOCAL:
            n = _MAKERS_LOCAL[maker]
            out[node.args[0].value] = (ast.unparse(node.args[1]), "local",
                                       [_expr(a) for a in node.args[2:2 + n]], _argnames(node.args[2], 1))
    _cache[path] = out
    return out


def _mirrored(impl_src, name):
    for prefix, full in _PREFIXES.items():
        if impl_src.startswith(prefix):
            return full + impl_src[len(prefix):]
    return f"numpy.{name}"


def _generated_doc(prim, entry):
    name = prim.name
    nargs = len(prim.vjp)
    argnames = ["x"] if nargs == 1 else ["x", "y"][:nargs] if nargs == 2 else [f"arg{i}" for i in range(nargs)]
    if entry and entry[3] and len(entry[3]) == nargs:
        argnames = entry[3]
    mirrored = _mirrored(entry[0], name) if entry else f"numpy.{name}"
    kind = "Elementwise " if prim.elementwise else ""
    lines = [f"{kind}`{mirrored}` on hodiff values, differentiable to any order "
             f"(primitive `{name!r}` of `hodiff.PRIMITIVES`)."]
    if prim.elementwise and nargs == 2:
        lines += ["", "Arguments broadcast as in numpy; each cotangent is summed back to its argument's shape."]
    if entry and entry[1] == "rules":
        lines += ["", "Derivative rules from the primitive table, written in hodiff operations so that they can be "
                  "differentiated again (`t`: tangent, `g`: cotangent, `ans`: the output):", ""]
        for a, (jvp, vjp) in zip(argnames, entry[2]):
            lines.append(f"- with respect to `{a}`: forward `{jvp}`, reverse `{vjp}`")
    elif entry and entry[1] == "local":
        lines += ["", "Local derivative from the primitive table, written in hodiff operations so that it can be "
                  "differentiated again (`ans` is the output):", ""]
        for a, local in zip(argnames, entry[2]):
            lines.append(f"- d/d{a}: `{local}`")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------------
# Sphinx roles -> optional autorefs

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|obj):`(~?)([\w.]+)`")


def _live(path):
    mod, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError):
        return None


def _fix_roles(text, owner):
    """Turn Sphinx roles into optional autorefs (``owner``: public path of the enclosing class, if any)."""
    def repl(m):
        short, name = m.group(1), m.group(2)
        title = name.rsplit(".", 1)[-1] if short else name
        if name.startswith("hodiff."):
            ident = name
        elif owner is not None and "." not in name and hasattr(_live(owner), name):
            ident = f"{owner}.{name}"
        else:
            ident = f"hodiff.{name}"
        return f'<autoref identifier="{ident}" optional><code>{title}</code></autoref>'
    return _ROLE.sub(repl, text)


def _fence_doctests(text):
    """Doctest lines outside a numpy-style ``Examples`` section would render as nested Markdown quotes (``>>>``):
    put each such block in a ``pycon`` code fence. Blocks inside ``Examples`` are left to the numpy parser."""
    lines = text.splitlines()
    out, section, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            section = line.strip()
        if line.lstrip().startswith(">>>") and section != "Examples":
            indent = line[:len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            out += ["", indent + "```pycon"] + [indent + b for b in block] + [indent + "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _walk(obj):
    yield obj
    for member in list(obj.members.values()):
        if not member.is_alias:
            yield from _walk(member)


# ------------------------------------------------------------------------------------------------------------------

class HodiffFunctions(griffe.Extension):
    """Render hodiff's generated and aliased public functions as functions; make Sphinx roles links."""

    def __init__(self):
        super().__init__()
        self._done = set()

    def on_package(self, *, pkg, loader=None, **kwargs):
        if pkg.name != "hodiff" or id(pkg) in self._done:
            return
        self._done.add(id(pkg))
        import hodiff

        parser = getattr(loader, "docstring_parser", None)
        parser_options = getattr(loader, "docstring_options", None)
        for modname in _PUBLIC_MODULES:
            try:
                live_mod = importlib.import_module(modname)
                gmod = pkg if modname == "hodiff" else pkg[modname.split(".", 1)[1]]
            except (ImportError, KeyError):
                continue
            for name in getattr(live_mod, "__all__", ()):
                live = getattr(live_mod, name, None)
                if not inspect.isfunction(live):
                    continue
                try:
                    obj = gmod[name]
                    target = obj.final_target if obj.is_alias else obj
                except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                    continue
                if not target.is_attribute:
                    continue
                prim = getattr(live, "prim", None)
                real = prim.name if prim is not None else live.__name__
                doc = inspect.getdoc(live)
                if not doc and prim is not None:
                    filepath = getattr(target.parent, "filepath", None)
                    entry = _entries(filepath).get(prim.name) if filepath else None
                    doc = _generated_doc(prim, entry)
                if real != name and real in getattr(live_mod, "__all__", ()):
                    see = f"{modname}.{real}"
                    doc = f"Another name for [`{see}`][{see}]." + ("\n\n" + doc if doc else "")
                func = griffe.Function(
                    name=target.name, lineno=target.lineno, endlineno=target.endlineno,
                    parameters=_parameters(live),
                    docstring=griffe.Docstring(doc, lineno=target.lineno, parser=parser,
                                               parser_options=parser_options) if doc else None,
                )
                target.parent.set_member(target.name, func)

        public_classes = {getattr(hodiff, n).__qualname__: f"hodiff.{n}" for n in hodiff.__all__
                          if inspect.isclass(getattr(hodiff, n, None))}
        for obj in _walk(pkg):
            if obj.docstring is None:
                continue
            if ">>>" in obj.docstring.value:
                obj.docstring.value = _fence_doctests(obj.docstring.value)
            if ":`" not in obj.docstring.value:
                continue
            owner = None
            if obj.is_class:
                owner = public_classes.get(obj.name)
            elif obj.parent is not None and obj.parent.is_class:
                owner = public_classes.get(obj.parent.name)
            obj.docstring.value = _fix_roles(obj.docstring.value, owner)

    # older griffe releases call the same hook ``on_package_loaded``
    def on_package_loaded(self, *, pkg, **kwargs):
        self.on_package(pkg=pkg, **kwargs)
