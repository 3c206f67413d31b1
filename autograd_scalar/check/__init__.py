"""Checking derivatives: every way the engine's derivatives are tested against numbers.

- :mod:`.differences` and :mod:`.array_differences`: central differences, the one numeric
  derivative the checkers share (for one input, and for all inputs of an n-ary row at once).
- :mod:`.gradcheck`: ``gradcheck`` / ``gradgradcheck``, a function's derivatives from
  backward (and forward mode) against central differences.
- :mod:`.check_graph`: the node whose stored local derivative disagrees with its forward.
- :mod:`.taylor`: the Taylor-remainder test, a check with no step size to choose.
- :mod:`.diff`: where two computation graphs part ways.

The public names are re-exported by :mod:`autograd_scalar`.
"""
