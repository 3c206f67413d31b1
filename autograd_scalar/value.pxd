# Static types for compiling value.py with Cython (the .py file stays plain Python).
cimport cython
from cpython.object cimport PyObject_GenericSetAttr

from autograd_scalar.mode cimport Mode, current_mode
from autograd_scalar.ops cimport Op, evaluate, is_real, local_derivatives



cdef class Value:
    cdef public double data
    cdef public double grad
    cdef public str label
    cdef public str scope
    cdef readonly tuple children
    cdef public object _row
    cdef public double _d0
    cdef public double _d1
    cdef public object _local
    cdef public Py_ssize_t _users
    cdef public object _pending


cdef Value _fill(Value node, double data, tuple children, object row, double d0, double d1,
                 object local, str scope)
cpdef Value new_node(double data, tuple children, object row, object local)
@cython.locals(node=Value, count=Py_ssize_t)
cdef Value _made(Mode mode, double data, tuple children, object row, object local)
@cython.locals(mode=Mode)
cdef Value _node(Op row, tuple children, tuple xs)
@cython.locals(mode=Mode, a=double, out=double, d0=double)
cdef object _unary(Op row, Value x)
@cython.locals(y=Value, mode=Mode, a=double, b=double, out=double, d0=double, d1=double)
cdef object _binary(Op row, Value x, object other)
cdef object _reflected(Op row, Value x, object other)
cdef object _operand(object x, str what)
cpdef Value lift(object x, str what)
cpdef double data_of(Value node)
cdef Py_ssize_t _DATA_WRITES
cpdef void note_data_writes()
cpdef object data_writes()
@cython.locals(node=Value, found=list)
cpdef tuple numbers(object nodes)
