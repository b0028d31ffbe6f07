"""The numpy face: the numpy-named functions built on the table, numpy's dispatch protocols, and the methods and
operators every box offers."""
