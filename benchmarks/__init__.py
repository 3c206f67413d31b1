"""Side-by-side benchmarks of autograd-scalar; run them all with ``python -m benchmarks``."""
