# Static types for compiling ops.py with Cython (the .py file stays plain Python).

cdef class Op:
    cdef readonly str name
    cdef readonly object scalar
    cdef readonly object vector
    cdef readonly object derivatives
    cdef readonly object arity
    cdef readonly object check
    cdef readonly str formula
    cdef readonly tuple params
    cdef readonly str symbol
    cdef readonly tuple kinks
    cdef readonly bint bilinear
    cdef readonly bint bias
    cdef readonly str formula_name
    cdef readonly bint method
    cdef readonly bint index
    cdef readonly bint separable
    cdef readonly object stacked
    cdef readonly tuple template

cpdef bint is_real(object x)
