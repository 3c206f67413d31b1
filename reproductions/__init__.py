"""Reproductions of published results with autograd-scalar.

Each module sets up one experiment as its source describes it and measures the
figure the source reports:

- :mod:`reproductions.symmetry`: the 6-2-1 mirror-symmetry network of Rumelhart,
  Hinton and Williams (Nature, 1986): sweeps to solution (the paper: 1,425) and
  the shape of the learned weights.
- :mod:`reproductions.family_trees`: the same paper's family-trees network:
  held-out facts answered correctly (the paper: all 4; Hinton 1986: 3 of 4 on a
  second run).
- :mod:`reproductions.mnist`: a 784-16-16-10 network on 5,000 MNIST digits,
  against the 88.97% test accuracy reported for a hand-written NumPy network.

``python -m reproductions`` runs them all and prints the table in docs/howto/reproductions.md.
"""
