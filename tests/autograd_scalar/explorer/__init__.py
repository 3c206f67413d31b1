"""Tests of autograd_scalar.explorer."""
