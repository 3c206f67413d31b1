"""Tests of autograd_scalar.check."""
