#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""IRON design of the int8 GEMM program: prints the MLIR of

    C_h[M][N] int32 = A_h[M][K] int8 x B_h[K][N] int8     (all row-major)

for h = 0 .. batch-1 (the device ABI, npu-backend/npu-device.h) on the
whole array of an NPU: 4 rows of compute tiles x 4 columns (npu1,
XDNA 1: Phoenix, Hawk Point) or x 8 columns (npu2, XDNA 2: Strix, Strix
Halo, Krackan).

Work split.  C is cut into blocks of (4*m) rows x n columns.  Core (row,
col) computes the m-row slice `row` of every block whose column index is
col modulo the number of columns; for each of its tiles it zeroes an int32
m x n tile in its own memory and calls matmul_i8_i32 once per k step,
adding into that tile: the WHOLE K is summed in int32 in the core, nothing
is shifted or saturated between steps.  The tile leaves the core once, at
the end of K.

Layout.  The host writes A as [batch][M][K] and B as [batch][K][N]
row-major and reads C as [batch][M][N] row-major, each operand's batch
back to back.  Without packing (b_offset 0) the runtime sequence takes
three arguments, A, B, C (kernel arguments 3, 4, 5).  With packed operands
(b_offset > 0, a multiple of 4096 at or after the batch of A) it takes two:
one int8 buffer holding A from byte 0 and B from byte b_offset (the bytes
between are never read), then C (kernel arguments 3 and 4).  Every
reordering the kernel needs (A in r x s blocks, B in s x t blocks, C in
r x t blocks, mm_int8.cc) is done by the DMA descriptors: the shim DMA
cuts m x k and k x n tiles out of the host buffers, the memory tile
rewrites them into blocked order on the way to the cores (dims_to_stream),
and rewrites the 4 stacked C tiles of a column back into row-major rows on
the way out.

Data movement, per column of the array:
  A  shim -> memory tile -> the 4 cores of one array row (broadcast);
     on npu2 the 4 A streams use the shims of the even columns
  B  shim -> memory tile -> the 4 cores of the column (broadcast)
  C  4 cores -> memory tile (joined) -> shim
every ObjectFifo two objects deep (double buffered).  The runtime sequence
sends A and B and receives C one block of 4*m rows at a time, each block in
a task group, GEMM after GEMM of the batch (groups numbered over (h, row
block)); the next block is queued before the previous one is awaited, so
the array never waits for the host between blocks or GEMMs.  The cores do
not know the batch: they compute tiles_per_core * batch output tiles in
the order the shims deliver them.

The pure-Python Plan (no `aie` import) holds all of this arithmetic and
checks it against the shim descriptor limits; tests/npu/test_aie_shapes.py
simulates it against the golden GEMM.  Only build_module() needs mlir-aie.

usage: gemm_int8.py --dev npu1|npu2 -M M -K K -N N -m m -k k -n n
                    [--batch B] [--b-offset BYTES] [--plan]
"""
import argparse
import inspect
import sys

ROWS = 4                  # compute rows, both generations
FIFO_DEPTH = 2            # double buffering
GROUPS_IN_FLIGHT = 2      # row blocks queued on the shims at once

# columns and the int8 x int8 -> acc32 aie::mmul shape (r, s, t) of each
# device: A tiles are r x s, B tiles s x t, C tiles r x t (the shapes
# mlir-aie's matrix multiplication examples use for i8 on aie2 / aie2p)
DEVICES = {
    "npu1": {"cols": 4, "mac": (4, 8, 8), "generation": "xdna1"},
    "npu2": {"cols": 8, "mac": (8, 8, 8), "generation": "xdna2"},
}
DEVICE_OF = {"xdna1": "npu1", "xdna2": "npu2", "npu": "npu1"}

# The shim DMA descriptor, as mlir-aie's verifier of npu.dma_memcpy_nd /
# dma_bd checks it (in 32-bit words): innermost and second sizes 10 bits,
# the outermost ("iteration") size at most 64, strides at most 2^20 words,
# 4-byte aligned offsets; the third size is implied by the length.  The
# offset is not in the descriptor: it is added to the buffer's address by
# the instruction sequence's address patch, whose addend mlir-aie declares
# as i32 (npu.address_patch arg_plus).  Whether the firmware takes it as
# signed is not known here, so offsets stay below 2^31 bytes.
BD_MAX_WRAP = 1023
BD_MAX_ITERATIONS = 64
BD_MAX_STRIDE_WORDS = 1 << 20
BD_MAX_OFFSET_BYTES = (1 << 31) - 1
BDS_PER_SHIM = 16

# B's offset in a packed operand buffer: a multiple of a page (the ABI's
# rule, npu-device.h; the shim itself needs only 4 bytes)
PACK_ALIGN = 4096

CORE_MEMORY = 64 * 1024        # data memory of a compute tile (both gens)
CORE_STACK = 0x400             # mlir-aie's default core stack
MEM_TILE_MEMORY = 512 * 1024


def kernel_object(m, k, n):
    """The core kernel's object file for one tile shape (Makefile rule)."""
    return "mm_i8_%dx%dx%d.o" % (m, k, n)


def check_bd(what, offset, sizes, strides, elem_bytes):
    """Raises ValueError when a shim transfer (outermost dimension first,
    in elements) is not one descriptor's worth of addressing."""
    if len(sizes) != len(strides) or not 1 <= len(sizes) <= 4:
        raise ValueError("%s: %d dimensions" % (what, len(sizes)))
    if strides[-1] != 1:
        raise ValueError("%s: innermost stride %d, not 1" % (what, strides[-1]))
    if (offset * elem_bytes) % 4 or (sizes[-1] * elem_bytes) % 4:
        raise ValueError("%s: offset or row not whole 32-bit words" % what)
    if not 0 <= offset * elem_bytes <= BD_MAX_OFFSET_BYTES:
        raise ValueError("%s: offset %d bytes, the address patch takes at "
                         "most %d" % (what, offset * elem_bytes,
                                      BD_MAX_OFFSET_BYTES))
    for st in strides[:-1]:
        if (st * elem_bytes) % 4:
            raise ValueError("%s: stride %d not whole words" % (what, st))
    inner = [sizes[-1] * elem_bytes // 4] + list(reversed(sizes[:-1]))
    # inner[0]: d0 in words, inner[1]: d1, inner[2]: d2, inner[3]: iterations
    if inner[0] > BD_MAX_WRAP or (len(inner) > 1 and inner[1] > BD_MAX_WRAP):
        raise ValueError("%s: sizes %s exceed %d words per dimension"
                         % (what, sizes, BD_MAX_WRAP))
    if len(inner) > 3 and inner[3] > BD_MAX_ITERATIONS:
        raise ValueError("%s: %d iterations, at most %d"
                         % (what, inner[3], BD_MAX_ITERATIONS))
    for st in strides[:-1]:
        if st * elem_bytes // 4 > BD_MAX_STRIDE_WORDS:
            raise ValueError("%s: stride %d words, at most %d"
                             % (what, st * elem_bytes // 4,
                                BD_MAX_STRIDE_WORDS))


def extent(offset, sizes, strides):
    """The lowest and highest element a transfer touches"""
    return offset, offset + sum((size - 1) * stride
                                for size, stride in zip(sizes, strides))


class Plan:
    """Everything about one program except the MLIR: tiling, fifo layouts
    and the runtime sequence, for @batch GEMMs per run, A and B packed in
    one buffer (B from byte @b_offset) when b_offset > 0.  Raises
    ValueError for a shape it cannot take, saying why."""

    def __init__(self, device, M, K, N, m, k, n, batch=1, b_offset=0):
        device = DEVICE_OF.get(device, device)
        if device not in DEVICES:
            raise ValueError("unknown device %r (npu1 or npu2)" % device)
        d = DEVICES[device]
        self.device, self.generation = device, d["generation"]
        self.cols = d["cols"]
        self.r, self.s, self.t = d["mac"]
        self.M, self.K, self.N, self.m, self.k, self.n = M, K, N, m, k, n
        r, s, t, cols = self.r, self.s, self.t, self.cols
        if min(M, K, N, m, k, n) <= 0:
            raise ValueError("sizes must be positive")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError("batch %r: at least one GEMM per run" % (batch,))
        if (isinstance(b_offset, bool) or not isinstance(b_offset, int)
                or b_offset < 0):
            raise ValueError("b_offset %r: a byte offset, 0 for no packing"
                             % (b_offset,))
        if b_offset and b_offset % PACK_ALIGN:
            raise ValueError("b_offset %d is not a multiple of %d"
                             % (b_offset, PACK_ALIGN))
        if b_offset and b_offset < batch * M * K:
            raise ValueError("b_offset %d overlaps the batch of A (%d bytes)"
                             % (b_offset, batch * M * K))
        self.batch, self.b_offset = batch, b_offset
        self.packed = b_offset > 0
        # the runtime sequence's arguments: (name, element bytes, elements)
        if self.packed:
            self.args = [("AB", 1, b_offset + batch * K * N),
                         ("C", 4, batch * M * N)]
        else:
            self.args = [("A", 1, batch * M * K), ("B", 1, batch * K * N),
                         ("C", 4, batch * M * N)]
        if M % (m * ROWS):
            raise ValueError("M=%d is not whole blocks of %d rows (4 x m)"
                             % (M, m * ROWS))
        if K % k:
            raise ValueError("K=%d is not whole k=%d steps" % (K, k))
        if N % (n * cols):
            raise ValueError("N=%d does not split into %d columns of n=%d"
                             % (N, cols, n))
        # the kernel computes 2 x 2 mmul tiles per step
        if m % (2 * r) or k % s or n % (2 * t):
            raise ValueError("tile %dx%dx%d is not a multiple of the "
                             "kernel's %dx%dx%d" % (m, k, n, 2 * r, s, 2 * t))
        if cols % ROWS:
            raise ValueError("%d columns: A needs one shim per array row"
                             % cols)
        self.row_blocks = M // (m * ROWS)
        self.col_blocks = N // (n * cols)      # per array column
        self.k_steps = K // k
        self.tiles_per_core = self.row_blocks * self.col_blocks  # per GEMM
        self.core_iterations = self.tiles_per_core * batch      # per run
        # a core's double-buffered A, B and C tiles plus its stack
        l1 = FIFO_DEPTH * (m * k + k * n + 4 * m * n) + CORE_STACK
        if l1 > CORE_MEMORY:
            raise ValueError("tile %dx%dx%d needs %d bytes of core memory, "
                             "%d there" % (m, k, n, l1, CORE_MEMORY))
        l2 = FIFO_DEPTH * (m * k + k * n + 4 * m * n * ROWS)
        if l2 > MEM_TILE_MEMORY:
            raise ValueError("tile %dx%dx%d needs %d bytes of memory tile"
                             % (m, k, n, l2))
        # layouts the memory tile writes into the cores (outermost first,
        # (size, stride) in elements): A in r x s blocks [m/r][k/s][r][s]
        self.a_l1_dims = [(m // r, r * k), (k // s, s), (r, k), (s, 1)]
        # B in s x t blocks [k/s][n/t][s][t]
        self.b_l1_dims = [(k // s, s * n), (n // t, t), (s, n), (t, 1)]
        # the 4 joined C tiles [4][m/r][n/t][r][t] back into 4*m rows of n
        self.c_l3_dims = [(m * ROWS // r, r * n), (r, t), (n // t, r * t),
                          (t, 1)]
        self.c_join_offsets = [m * n * row for row in range(ROWS)]
        self.ops = self._sequence()
        self._check_transfers()

    def a_col(self, row):
        """The column whose shim and memory tile carry array row @row's A
        (npu2: the even columns, so no shim carries two A streams)."""
        return row * (self.cols // ROWS)

    def a_row_of_col(self, col):
        step = self.cols // ROWS
        return col // step if col % step == 0 else None

    def a_base(self, h):
        """Where GEMM h's A starts, in elements of the argument holding A"""
        return h * self.M * self.K

    def b_base(self, h):
        """Where GEMM h's B starts, in elements of the argument holding B
        (the packed buffer from b_offset, or B's own from 0)"""
        return self.b_offset + h * self.K * self.N

    def c_base(self, h):
        return h * self.M * self.N

    def _sequence(self):
        """The runtime sequence as a list of tuples:
           ("group", g) / ("finish", g)
           ("fill", "A"|"B", fifo index, shim column, g, offset, sizes,
            strides, wait)
           ("drain", "C", fifo index, shim column, g, offset, sizes,
            strides, wait)
        g = h * row_blocks + row block, for GEMM h of the batch; offsets,
        sizes and strides in elements of the runtime-sequence argument the
        operand lives in (packed: A's and B's both in the one AB
        argument)."""
        M, K, N, m, k, n = self.M, self.K, self.N, self.m, self.k, self.n
        cols, cb = self.cols, self.col_blocks
        ops = []
        open_groups = []
        for h in range(self.batch):
            a0, b0, c0 = self.a_base(h), self.b_base(h), self.c_base(h)
            for i in range(self.row_blocks):
                g = h * self.row_blocks + i
                ops.append(("group", g))
                open_groups.append(g)
                for c in range(cols):
                    # receive this column's C of block i first, so the
                    # memory tile has somewhere to send it: col_blocks
                    # tiles of 4*m x n, n*cols apart
                    ops.append(("drain", "C", c, c, g,
                                c0 + i * m * ROWS * N + c * n,
                                [cb, m * ROWS, n], [n * cols, N, 1], True))
                    row = self.a_row_of_col(c)
                    if row is not None:
                        # array row `row`'s m rows of block i, all of K in
                        # k steps, once per column block the row's cores
                        # compute
                        ops.append(("fill", "A", row, c, g,
                                    a0 + (i * ROWS + row) * m * K,
                                    [cb, K // k, m, k], [0, k, K, 1], False))
                    # column c's n-wide strips of B, every k step of each
                    ops.append(("fill", "B", c, c, g, b0 + c * n,
                                [cb, K // k, k, n], [n * cols, k * N, N, 1],
                                False))
                if len(open_groups) >= GROUPS_IN_FLIGHT:
                    ops.append(("finish", open_groups.pop(0)))
        while open_groups:
            ops.append(("finish", open_groups.pop(0)))
        return ops

    def _check_transfers(self):
        # where each operand may be read or written, in elements of its
        # argument: A's batch, B's batch (from b_offset when packed), C's
        bounds = {"A": (0, self.batch * self.M * self.K),
                  "B": (self.b_offset,
                        self.b_offset + self.batch * self.K * self.N),
                  "C": (0, self.batch * self.M * self.N)}
        per_shim = {}
        open_bds = {}
        for op in self.ops:
            if op[0] == "group":
                continue
            if op[0] == "finish":
                for key in [key for key in open_bds if key[1] == op[1]]:
                    del open_bds[key]
                continue
            _, buf, idx, shim, g, offset, sizes, strides, _ = op
            what = "%s %s%d group %d" % (op[0], buf, idx, g)
            check_bd(what, offset, sizes, strides, 4 if buf == "C" else 1)
            lo, hi = extent(offset, sizes, strides)
            if lo < bounds[buf][0] or hi >= bounds[buf][1]:
                raise ValueError("%s: elements %d..%d outside %s's %d..%d"
                                 % (what, lo, hi, buf, bounds[buf][0],
                                    bounds[buf][1] - 1))
            open_bds[(shim, g, buf)] = open_bds.get((shim, g, buf), 0) + 1
            n_open = sum(v for key, v in open_bds.items() if key[0] == shim)
            per_shim[shim] = max(per_shim.get(shim, 0), n_open)
        worst = max(per_shim.values())
        if worst > BDS_PER_SHIM:
            raise ValueError("%d descriptors in flight on one shim, %d there"
                             % (worst, BDS_PER_SHIM))
        self.max_bds_per_shim = worst

    def describe(self):
        lines = ["%s (%s): C[%d][%d] = A[%d][%d] x B[%d][%d], tile %dx%dx%d, "
                 "mmul %dx%dx%d, %d x %d cores, %d tiles per core, %d k steps"
                 % (self.device, self.generation, self.M, self.N, self.M,
                    self.K, self.K, self.N, self.m, self.k, self.n, self.r,
                    self.s, self.t, ROWS, self.cols, self.tiles_per_core,
                    self.k_steps),
                 "batch %d (%d tiles per core per run), %s"
                 % (self.batch, self.core_iterations,
                    "packed operands, B from byte %d" % self.b_offset
                    if self.packed else "A, B, C in three buffers"),
                 "arguments: %s" % ", ".join(
                     "%s %d bytes" % (name, eb * n)
                     for name, eb, n in self.args),
                 "A to cores: %s" % self.a_l1_dims,
                 "B to cores: %s" % self.b_l1_dims,
                 "C to shim: %s" % self.c_l3_dims,
                 "descriptors in flight per shim: at most %d"
                 % self.max_bds_per_shim]
        for op in self.ops:
            lines.append(" ".join(str(x) for x in op))
        return "\n".join(lines)


def build_module(plan):
    """The MLIR module of @plan, through IRON (mlir-aie's Python API)."""
    import numpy as np
    from aie.iron import Kernel, ObjectFifo, Program, Runtime, Worker
    from aie.iron.controlflow import range_
    from aie.iron.placers import SequentialPlacer
    from aie.helpers.taplib import TensorAccessPattern
    import aie.iron.device as iron_device

    Tile = iron_device.Tile
    if plan.device == "npu1":
        # the 4-column Phoenix device is NPU1 in current IRON, NPU1Col4
        # in the v1.0 release
        dev_cls = getattr(iron_device, "NPU1", None) or iron_device.NPU1Col4
    else:
        dev_cls = iron_device.NPU2
    # ObjectFifo's depth argument was renamed default_depth -> depth
    of_params = inspect.signature(ObjectFifo.__init__).parameters
    depth_kw = "depth" if "depth" in of_params else "default_depth"

    m, k, n = plan.m, plan.k, plan.n
    i8, i32 = np.dtype[np.int8], np.dtype[np.int32]
    # the runtime sequence's arguments (plan.args): A, B, C or, packed, AB
    # (A from 0, B from b_offset) and C
    arg_tys = [np.ndarray[(elems,), i32 if eb == 4 else i8]
               for _, eb, elems in plan.args]
    arg_elems = [elems for _, _, elems in plan.args]
    A_l2_ty = np.ndarray[(m * k,), i8]
    B_l2_ty = np.ndarray[(k * n,), i8]
    C_l2_ty = np.ndarray[(m * n * ROWS,), i32]
    A_l1_ty = np.ndarray[(m, k), i8]
    B_l1_ty = np.ndarray[(k, n), i8]
    C_l1_ty = np.ndarray[(m, n), i32]

    obj = kernel_object(m, k, n)
    zero = Kernel("zero_i32", obj, [C_l1_ty])
    matmul = Kernel("matmul_i8_i32", obj, [A_l1_ty, B_l1_ty, C_l1_ty])

    a_in, a_core = {}, {}
    for row in range(ROWS):
        a_in[row] = ObjectFifo(A_l2_ty, name="A_L3L2_%d" % row,
                               **{depth_kw: FIFO_DEPTH})
        a_core[row] = a_in[row].cons().forward(
            obj_type=A_l1_ty, name="A_L2L1_%d" % row,
            dims_to_stream=plan.a_l1_dims,
            placement=Tile(plan.a_col(row), 1))
    b_in, b_core, c_out, c_core = {}, {}, {}, {}
    for col in range(plan.cols):
        b_in[col] = ObjectFifo(B_l2_ty, name="B_L3L2_%d" % col,
                               **{depth_kw: FIFO_DEPTH})
        b_core[col] = b_in[col].cons().forward(
            obj_type=B_l1_ty, name="B_L2L1_%d" % col,
            dims_to_stream=plan.b_l1_dims, placement=Tile(col, 1))
        c_out[col] = ObjectFifo(C_l2_ty, name="C_L2L3_%d" % col,
                                dims_to_stream=plan.c_l3_dims,
                                **{depth_kw: FIFO_DEPTH})
        joined = c_out[col].prod().join(
            plan.c_join_offsets, obj_types=[C_l1_ty] * ROWS,
            names=["C_L1L2_%d_%d" % (col, row) for row in range(ROWS)],
            depths=[FIFO_DEPTH] * ROWS, placement=Tile(col, 1))
        for row in range(ROWS):
            c_core[(row, col)] = joined[row]

    # every output tile of the batch, GEMM after GEMM
    core_iterations, k_steps = plan.core_iterations, plan.k_steps

    def core_fn(a, b, c, zero_fn, matmul_fn):
        # a loop of one trip is written as a Python loop: range_(1) is
        # refused by older IRON releases
        for _ in (range_(core_iterations) if core_iterations > 1
                  else range(1)):
            acc = c.acquire(1)
            zero_fn(acc)
            for _ in (range_(k_steps) if k_steps > 1 else range(1)):
                ta = a.acquire(1)
                tb = b.acquire(1)
                matmul_fn(ta, tb, acc)
                a.release(1)
                b.release(1)
            c.release(1)

    workers = []
    for row in range(ROWS):
        for col in range(plan.cols):
            workers.append(Worker(
                core_fn,
                [a_core[row].cons(), b_core[col].cons(),
                 c_core[(row, col)].prod(), zero, matmul],
                placement=Tile(col, 2 + row)))

    def tap(size, offset, sizes, strides):
        pad = 4 - len(sizes)
        return TensorAccessPattern((size,), offset, [1] * pad + list(sizes),
                                   [0] * pad + list(strides))

    rt = Runtime()
    with rt.sequence(*arg_tys) as seq_args:
        if plan.packed:
            AB, C = seq_args
            A = B = AB
            a_elems = b_elems = arg_elems[0]
        else:
            A, B, C = seq_args
            a_elems, b_elems = arg_elems[0], arg_elems[1]
        c_elems = arg_elems[-1]
        rt.start(*workers)
        groups = {}
        for op in plan.ops:
            if op[0] == "group":
                groups[op[1]] = rt.task_group()
            elif op[0] == "finish":
                rt.finish_task_group(groups.pop(op[1]))
            elif op[0] == "fill":
                _, buf, idx, shim, g, offset, sizes, strides, wait = op
                fifo, data, size = ((a_in[idx], A, a_elems) if buf == "A"
                                    else (b_in[idx], B, b_elems))
                rt.fill(fifo.prod(), data,
                        tap=tap(size, offset, sizes, strides),
                        task_group=groups[g], wait=wait,
                        placement=Tile(shim, 0))
            else:
                _, buf, idx, shim, g, offset, sizes, strides, wait = op
                rt.drain(c_out[idx].cons(), C,
                         tap=tap(c_elems, offset, sizes, strides),
                         task_group=groups[g], wait=wait,
                         placement=Tile(shim, 0))

    return Program(dev_cls(), rt).resolve_program(SequentialPlacer())


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="MLIR of the int8 GEMM program (whole array)")
    ap.add_argument("--dev", default="npu1",
                    choices=sorted(list(DEVICES) + list(DEVICE_OF)))
    ap.add_argument("-M", type=int, required=True)
    ap.add_argument("-K", type=int, required=True)
    ap.add_argument("-N", type=int, required=True)
    ap.add_argument("-m", type=int, default=64)
    ap.add_argument("-k", type=int, default=64)
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1,
                    help="GEMMs per run (default 1)")
    ap.add_argument("--b-offset", type=int, default=0,
                    help="packed operands: B's byte offset in the one A/B "
                    "buffer, a multiple of 4096 (default 0: three buffers)")
    ap.add_argument("--plan", action="store_true",
                    help="print the tiling and runtime sequence, no MLIR "
                    "(needs no mlir-aie)")
    args = ap.parse_args(argv)
    try:
        plan = Plan(args.dev, args.M, args.K, args.N, args.m, args.k, args.n,
                    args.batch, args.b_offset)
    except ValueError as e:
        print("gemm_int8.py: %s" % e, file=sys.stderr)
        return 1
    if args.plan:
        print(plan.describe())
        return 0
    try:
        module = build_module(plan)
    except ImportError as e:
        print("gemm_int8.py: mlir-aie's Python package is needed (%s); "
              "see README.md" % e, file=sys.stderr)
        return 1
    print(module)
    return 0


if __name__ == "__main__":
    sys.exit(main())
