"""Tests of autograd_scalar.tape."""
