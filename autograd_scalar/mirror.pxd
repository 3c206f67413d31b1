# Static types for compiling mirror.py with Cython (the .py file stays plain Python).
cimport cython
from cpython.list cimport PyList_GET_ITEM
from cpython.tuple cimport PyTuple_GET_ITEM

from autograd_scalar.value cimport Value, note_data_writes


@cython.locals(count=Py_ssize_t, i=Py_ssize_t, node=Value, view="double[::1]")
cpdef void read_data(tuple nodes, object out) except *
@cython.locals(count=Py_ssize_t, i=Py_ssize_t, node=Value, view="double[::1]")
cpdef void read_grad(tuple nodes, object out) except *
@cython.locals(count=Py_ssize_t, i=Py_ssize_t, node=Value, view="const double[::1]")
cpdef void write_grad(tuple nodes, object grad) except *
@cython.locals(count=Py_ssize_t, i=Py_ssize_t, node=Value, view="const double[::1]")
cpdef void write_data(tuple nodes, object data) except *
@cython.locals(count=Py_ssize_t, i=Py_ssize_t, node=Value, numbers="const double[::1]",
               gradients="const double[::1]")
cpdef void write_data_and_grad(tuple nodes, object data, object grad) except *
@cython.locals(found=tuple, i=Py_ssize_t)
cpdef tuple only_values(object items)
@cython.locals(count=Py_ssize_t, i=Py_ssize_t)
cpdef bint same_items(object items, tuple previous) except -1
@cython.locals(i=Py_ssize_t, node=Value)
cpdef Py_ssize_t first_made(tuple nodes) except -2
cdef void _check(Py_ssize_t count, object array, str name) except *
