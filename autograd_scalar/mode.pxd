# Static types for compiling mode.py with Cython (the .py file stays plain Python).

cdef class Mode:
    cdef public bint grad_enabled
    cdef public bint anomaly
    cdef public str scope
