# Static types for compiling backward.py with Cython (the .py file stays plain Python).
cimport cython

from autograd_scalar.value cimport Value


@cython.locals(order=list, ready=list, node=Value, child=Value, left=Py_ssize_t)
cpdef list users_first(object root)
@cython.locals(stack=list, child=Value, users=Py_ssize_t)
cdef void _count_users(Value root) except *
cdef void _reset(Value root) except *
@cython.locals(seen=set, stack=list, child=Value)
cdef void _clear_from(Value root) except *
cpdef list chain_rule(object root, object seed, bint create_graph=*, bint store=*)
@cython.locals(order=list, ready=list, node=Value, children=tuple, local=tuple,
               upstream=object, anomaly=bint, plain=bint, i=Py_ssize_t, count=Py_ssize_t,
               child=Value, pending=object, scalar=double, d0=double, d1=double,
               product=double, left=Py_ssize_t)
cdef list _chain_rule(Value root, object seed, bint create_graph, bint store=*)
@cython.locals(scalar=double, product=double)
cdef inline object _times(double local, object upstream)
@cython.locals(pending=object, total=object)
cdef inline void _accumulate(Value user, Value child, object contribution, bint anomaly) except *
cpdef void release(list nodes) except *
@cython.locals(node=Value)
cdef void _clear(list nodes) except *
@cython.locals(node=Value, total=object)
cdef void _store_gradients(list nodes) except *
@cython.locals(order=list, node=Value, seed=double)
cpdef backward(object root, object grad=*)
