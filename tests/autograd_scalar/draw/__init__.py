"""Tests of autograd_scalar.draw."""
