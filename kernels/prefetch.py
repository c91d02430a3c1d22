"""A software prefetch for numba kernels: ``prefetch(array, index)``.

Numba has no prefetch of its own; this emits LLVM's ``llvm.prefetch`` (for writing, keep in
all cache levels) for the address of ``array[index]`` on a 1-D array. It changes no result, only
when memory arrives: loops that visit scattered cells ask for the cell some steps ahead.
Checked with LLVM 14 (numba 0.60) and LLVM 22 (numba 0.68).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_WRITE, _ALL_LEVELS, _DATA = 1, 3, 1  # most prefetched cells are read, added to and written back


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to load the cache line holding ``array[index]`` (no bounds check, no effect on values)."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        view = context.make_array(array_type)(context, builder, args[0])
        at = context.cast(builder, args[1], index_type, types.intp)  # strided arrays multiply it by an intp
        address = cgutils.get_item_pointer(context, builder, array_type, view, [at], wraparound=False)
        bytes_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        hint = ir.FunctionType(ir.VoidType(), [bytes_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, hint, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(address, bytes_ptr), i32(_WRITE), i32(_ALL_LEVELS), i32(_DATA)])
        return context.get_dummy_value()

    return types.void(array, index), codegen
