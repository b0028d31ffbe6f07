"""The transforms users call (``grad``, ``jvp``, ``vjp``, ``hvp``, ``hessian``, ``linearize``, ...), each opening
interpreter levels, all crossing one ``boundary`` for their inputs and results."""
