"""The ground floor: one ``Primitive`` type, one ``bind``, levels and boxes (``engine``), grad modes (``modes``)."""
