"""hodiff's implementation, floor by floor; nothing under ``_src`` is public (the names users import are re-exported
by the modules at the top of ``hodiff/``).

Each floor imports only from the floors below it (``docs/architecture.md`` has the plan):

1. ``core``: ``Primitive``, ``bind``, levels, boxes, grad modes.
2. ``table``: the primitive table (implementation, JVP and VJP rules, cost and test domains per primitive) and the
   Taylor rules.
3. ``numpy``: the numpy face: the functions users call, numpy dispatch, the methods and operators every box has.
4. ``interpreters``: forward (``Dual``), reverse recording (``Tensor``) and the backward sweep, Taylor, sparsity,
   linear recording.
5. ``transforms``: what users call to differentiate (``grad``, ``hvp``, ``hessian``, ...), over one shared
   ``boundary``.
"""
