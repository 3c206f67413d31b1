# Static types for compiling ops.py with Cython (the .py file stays plain Python).
# Op's attributes are its dataclass fields, in order (test_core_build checks).

cdef class Op:
    cdef readonly str name
    cdef readonly object scalar
    cdef readonly object vector
    cdef readonly object derivatives
    cdef readonly object arity
    cdef readonly object check
    cdef readonly str formula
    cdef readonly str symbol
    cdef readonly tuple kinks
    cdef readonly bint bilinear
    cdef readonly bint bias
    cdef readonly bint method
    cdef readonly bint index
    cdef readonly bint separable
    cdef readonly bint smooth
    cdef readonly object stacked
    cdef readonly tuple template

cpdef bint is_real(object x)
cpdef object evaluate(Op row, tuple xs)
cpdef object local_derivatives(Op row, tuple xs, object out)
