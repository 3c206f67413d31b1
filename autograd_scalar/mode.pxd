# Static types for compiling mode.py with Cython (the .py file stays plain Python).

cdef class Mode:
    cdef readonly bint grad_enabled
    cdef readonly bint anomaly
    cdef readonly str scope
    cdef readonly object tracing
    cdef readonly bint plain

cpdef Mode current_mode()
