"""The interpreters, one room each: forward mode, reverse recording and the backward sweep, Taylor mode, sparsity
detection, linear recording. Each owns a box type and a ``Trace`` subclass whose ``process`` ``bind`` calls."""
