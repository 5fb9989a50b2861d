#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The AIE kernel sources (kernels/aie/) against the engine.

usage: test_aie_shapes.py PRINT_NPU_SHAPES

 1. shapes.py's table equals the engine's npu_encoder_programs (printed by
    tests/engine/print-npu-shapes), line for line, both generations, every
    model, batch and b_offset included; every program tiles the array (M,
    K, N multiples of the tiles, tile_n over the columns); the five
    projections run one GEMM over three buffers, attention's two a batch
    of n_head GEMMs with packed operands (B on the first 4096-byte
    boundary after the batch of A).
 2. write_manifest.py --no-check writes valid JSON (version 2) with the
    manifest fields for every program, batch and b_offset included;
    without --no-check it refuses a directory missing files or holding a
    torn instruction file, and accepts it once the files are there.
 3. gemm_int8.py's Plan takes every program of the table, with its batch
    and b_offset (shim descriptor limits and offsets, core and memory tile
    sizes), numbers its task groups over (GEMM, row block), and refuses
    shapes it cannot tile, a batch below 1 and a b_offset that is
    misaligned, overlaps the batch of A or is past the address patch.
 4. The plan's data movement, simulated (shim access patterns on the
    runtime sequence's buffers, memory tile layouts, the kernel's blocked
    arithmetic, the C join), computes the golden GEMM of every h of the
    batch exactly, every C element written once, every object fifo
    drained to the last object; each A and B element is read as often as
    the design reuses it, and a packed plan reads A only below
    batch*M*K and B only from b_offset, never the poisoned bytes between
    (needs numpy; skipped without it).
 5. mm_int8.cc, built for the host against tests/npu/aie-host (a stand-in
    for the aie_api pieces it uses) and driven as the design drives it
    (tests/npu/mm-int8-host.cc), computes the GEMM exactly for both mmul
    shapes (needs a C++ compiler: $CXX, c++, g++ or clang++; skipped
    without one).
 6. Every .py under kernels/aie compiles; if the `aie` package imports,
    gemm_int8.py prints MLIR for one program and for a packed batch
    (skipped otherwise).
Exit 0 when all pass, 1 on the first failure.
"""
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
AIE_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "kernels", "aie"))
sys.path.insert(0, AIE_DIR)

import gemm_int8  # noqa: E402
import shapes  # noqa: E402

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg)
    return cond


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def test_table(printer):
    c = run([printer])
    if not check(c.returncode == 0, "print-npu-shapes exit %d: %s"
                 % (c.returncode, c.stderr.strip())):
        return
    py = run([sys.executable, os.path.join(AIE_DIR, "shapes.py")])
    if not check(py.returncode == 0, "shapes.py exit %d: %s"
                 % (py.returncode, py.stderr.strip())):
        return
    c_lines = c.stdout.splitlines()
    py_lines = py.stdout.splitlines()
    expected = len(shapes.GENERATIONS) * len(shapes.MODELS) * 7
    check(len(py_lines) == expected, "shapes.py printed %d lines, not %d"
          % (len(py_lines), expected))
    check(len(c_lines) == len(py_lines), "engine %d lines, shapes.py %d"
          % (len(c_lines), len(py_lines)))
    for i, (a, b) in enumerate(zip(c_lines, py_lines)):
        if not check(a == b, "line %d: engine %r, shapes.py %r" % (i + 1, a, b)):
            break
    # the printed lines are the module's table
    rows = shapes.table()
    for line, (gen, model, p) in zip(py_lines, rows):
        want = "%s %s %d %d %d %d %d %d %d %d" % (
            gen, model, p["M"], p["K"], p["N"], p["tile_m"], p["tile_k"],
            p["tile_n"], p["batch"], p["b_offset"])
        check(line == want, "CLI %r, module %r" % (line, want))
    heads = {"tiny": 6, "base": 8, "small": 12, "medium": 16, "large": 20,
             "large-v2": 20, "large-v3": 20}
    check(set(heads) == set(shapes.MODELS), "models %s" % list(shapes.MODELS))
    for i, (gen, model, p) in enumerate(rows):
        cols = shapes.GENERATIONS[gen][1]
        tag = "%s %s %s" % (gen, model, p["name"])
        check(p["M"] % (p["tile_m"] * shapes.ARRAY_ROWS) == 0,
              tag + ": M not whole array rows")
        check(p["K"] % p["tile_k"] == 0, tag + ": K not whole k tiles")
        check(p["N"] % (p["tile_n"] * cols) == 0, tag + ": N over columns")
        check(p["M"] >= shapes.POSITIONS, tag + ": M below 1500 positions")
        check(shapes.MODELS[model][2] * 64 == shapes.MODELS[model][1],
              tag + ": n_head x 64 is not n_state")
        if i % 7 < 5:
            # the projections: one GEMM per run, three buffers
            check(p["batch"] == 1 and p["b_offset"] == 0,
                  tag + ": batch %d, b_offset %d" % (p["batch"],
                                                      p["b_offset"]))
            check(p["name"] == "gemm-%dx%dx%d" % (p["M"], p["K"], p["N"]),
                  tag + ": name")
        else:
            # attention: the layer's heads, A and B packed
            a_bytes = p["batch"] * p["M"] * p["K"]
            check(p["batch"] == heads[model], tag + ": batch %d, %d heads"
                  % (p["batch"], heads[model]))
            check(p["b_offset"] >= a_bytes and p["b_offset"] % 4096 == 0
                  and p["b_offset"] - a_bytes < 4096,
                  tag + ": b_offset %d after %d bytes of A"
                  % (p["b_offset"], a_bytes))
            check(p["name"] == "bgemm-%dx%dx%dx%d" % (p["batch"], p["M"],
                                                      p["K"], p["N"]),
                  tag + ": name")
    # spot values worked out by hand: tiny's q/k/v on XDNA 1,
    # 1500 -> 1536 rows, N = 3 x 384 = 1152 = 6 x 48 x 4
    check("xdna1 tiny 1536 384 1152 64 64 48 1 0" in py_lines,
          "tiny q/k/v on xdna1 not 1536x384x1152 with n=48")
    # large-v3's 128 bands: conv1 K = 384 (128 x 3 padded to 64)
    check("xdna2 large-v3 3072 384 1280 64 64 32 1 0" in py_lines,
          "large-v3 conv1 on xdna2 not 3072x384x1280 with n=32")
    # tiny's Q K^T: 6 heads of 1536 x 64, B at 6 x 98304 = 589824
    check("xdna1 tiny 1536 64 1536 64 64 64 6 589824" in py_lines,
          "tiny Q K^T on xdna1 not 6 x 1536x64x1536 packed at 589824")
    # large's P V on XDNA 2: 20 heads of 3072 x 1536, N = 64 -> 128
    # (whole n tiles over 8 columns), B at 20 x 4718592 = 94371840
    check("xdna2 large 3072 1536 128 64 64 16 20 94371840" in py_lines,
          "large P V on xdna2 not 20 x 3072x1536x128 packed at 94371840")
    bad = run([sys.executable, os.path.join(AIE_DIR, "shapes.py"),
               "--model", "no-such-model"])
    check(bad.returncode != 0 and "unknown model" in bad.stderr,
          "shapes.py accepted an unknown model")


MANIFEST_KEYS = {"name": str, "kernel": str, "xclbin": str, "insts": str,
                 "M": int, "K": int, "N": int, "tile_m": int, "tile_k": int,
                 "tile_n": int, "batch": int, "b_offset": int}


def test_manifest():
    wm = os.path.join(AIE_DIR, "write_manifest.py")
    for gen, (device, _) in shapes.GENERATIONS.items():
        with tempfile.TemporaryDirectory() as d:
            r = run([sys.executable, wm, "--gen", gen, "--no-check",
                     "--dir", d])
            if not check(r.returncode == 0, "write_manifest %s --no-check: %s"
                         % (gen, r.stderr.strip())):
                continue
            with open(os.path.join(d, "manifest.json"), encoding="utf-8") as fh:
                doc = json.load(fh)
            check(doc.get("format") == "gst-whisper-npu-aie-manifest",
                  "format %r" % doc.get("format"))
            check(doc.get("version") == 2, "version %r" % doc.get("version"))
            check(doc.get("device") == device, "device %r" % doc.get("device"))
            check(doc.get("generation") == gen,
                  "generation %r" % doc.get("generation"))
            progs = doc.get("programs", [])
            want = shapes.distinct_programs(gen, None)
            check([p.get("name") for p in progs] == [w["name"] for w in want],
                  "%s: manifest programs differ from the table" % gen)
            for p, w in zip(progs, want):
                for key, typ in MANIFEST_KEYS.items():
                    check(isinstance(p.get(key), typ)
                          and not isinstance(p.get(key), bool),
                          "%s %s: field %s is %r" % (gen, w["name"], key,
                                                     p.get(key)))
                for key in ("M", "K", "N", "tile_m", "tile_k", "tile_n",
                            "batch", "b_offset"):
                    check(p.get(key) == w[key], "%s %s: %s %r, table %r"
                          % (gen, w["name"], key, p.get(key), w[key]))
                check(p.get("kernel") == "MLIR_AIE", "kernel %r"
                      % p.get("kernel"))
                if w["batch"] == 1:
                    name = "gemm-%dx%dx%d" % (w["M"], w["K"], w["N"])
                else:
                    name = "bgemm-%dx%dx%dx%d" % (w["batch"], w["M"], w["K"],
                                                  w["N"])
                check(p.get("name") == name, "name %r, not %r"
                      % (p.get("name"), name))
                for key in ("xclbin", "insts"):
                    f = p.get(key, "")
                    check(f and not os.path.isabs(f) and "/" not in f,
                          "%s %s: %s %r not a file of the directory"
                          % (gen, w["name"], key, f))
            check(len({p.get("xclbin") for p in progs}) == len(progs),
                  "%s: two programs share an xclbin" % gen)
            # large and large-v2 share all seven programs: listed once
            check(len(progs) == len({p.get("name") for p in progs}),
                  "%s: a program listed twice" % gen)
            # every model's two attention programs are there, batched
            check(sum(1 for p in progs if p.get("batch", 1) > 1)
                  == 2 * len({m[2] for m in shapes.MODELS.values()}),
                  "%s: not two batched programs per head count" % gen)

    # the file check, on tiny's programs
    with tempfile.TemporaryDirectory() as d:
        args = [sys.executable, wm, "--gen", "xdna1", "--model", "tiny",
                "--dir", d]
        r = run(args)
        check(r.returncode != 0 and "missing" in r.stderr
              and not os.path.exists(os.path.join(d, "manifest.json")),
              "write_manifest accepted a directory with no files")
        progs = shapes.distinct_programs("xdna1", ["tiny"])
        for p in progs:
            with open(os.path.join(d, p["name"] + ".xclbin"), "wb") as fh:
                fh.write(b"xclbin2\0")
            with open(os.path.join(d, p["name"] + ".insts.bin"), "wb") as fh:
                fh.write(b"\0" * 8)
        with open(os.path.join(d, progs[0]["name"] + ".insts.bin"), "wb") as fh:
            fh.write(b"\0" * 6)
        r = run(args)
        check(r.returncode != 0 and "32-bit" in r.stderr,
              "write_manifest accepted a 6-byte instruction file")
        with open(os.path.join(d, progs[0]["name"] + ".insts.bin"), "wb") as fh:
            fh.write(b"\0" * 8)
        r = run(args)
        check(r.returncode == 0 and os.path.exists(os.path.join(
            d, "manifest.json")), "write_manifest refused complete files: %s"
              % r.stderr.strip())


def test_plans():
    planned = set()
    for gen, model, p in shapes.table():
        if (gen, p["name"]) in planned:
            continue
        planned.add((gen, p["name"]))
        try:
            plan = gemm_int8.Plan(gen, p["M"], p["K"], p["N"], p["tile_m"],
                                  p["tile_k"], p["tile_n"], p["batch"],
                                  p["b_offset"])
        except ValueError as e:
            check(False, "%s %s %s: %s" % (gen, model, p["name"], e))
            continue
        check(plan.max_bds_per_shim <= gemm_int8.BDS_PER_SHIM,
              "%s: %d descriptors" % (p["name"], plan.max_bds_per_shim))
        check_plan_groups(plan, "%s %s" % (gen, p["name"]))
    refused = [
        ("npu1", 1500, 384, 384, 64, 64, 48),     # M not whole blocks
        ("npu1", 1536, 380, 384, 64, 64, 48),     # K not whole k steps
        ("npu1", 1536, 384, 384, 64, 64, 64),     # 384 over 4 x 64
        ("npu2", 1536, 384, 384, 64, 64, 64),     # 384 over 8 x 64
        ("npu2", 1536, 384, 384, 4, 64, 48),      # m below 2 x r = 16
        ("npu1", 1536, 384, 128 * 4 * 16, 64, 64, 16),  # 128 iterations
        ("npu1", 1536, 384, 1536, 128, 128, 64),  # core memory
        ("npu3", 1536, 384, 1536, 64, 64, 64),
    ]
    # batch and packing, on tiny's Q K^T (6 x 98304 bytes of A)
    qk = ("npu1", 1536, 64, 1536, 64, 64, 64)
    refused += [
        qk + (0, 0),                      # no GEMM
        qk + (-6, 0),
        qk + (1.5, 0),                    # not a count
        qk + (True, 0),
        qk + (6, -4096),                  # negative offset
        qk + (6, 589824 + 4),             # word-aligned, not page-aligned
        qk + (6, 589824 + 2048),
        qk + (6, 589824 - 4096),          # B over the last head's A
        qk + (6, 4096),
        qk + (6, 1 << 31),                # past the address patch's i32
    ]
    for args in refused:
        try:
            gemm_int8.Plan(*args)
            check(False, "Plan%r accepted" % (args,))
        except ValueError:
            pass
    # the ABI's smallest packing, and a batch over three buffers
    for args in (qk + (6, 589824), qk + (6, 0), qk + (1, 98304)):
        try:
            gemm_int8.Plan(*args)
        except ValueError as e:
            check(False, "Plan%r refused: %s" % (args, e))
    r = run([sys.executable, os.path.join(AIE_DIR, "gemm_int8.py"), "--dev",
             "npu1", "-M", "1536", "-K", "384", "-N", "1152", "-n", "48",
             "--plan"])
    check(r.returncode == 0 and "36 tiles per core" in r.stdout
          and "batch 1 " in r.stdout and "three buffers" in r.stdout,
          "gemm_int8.py --plan: %s %s" % (r.stdout[:300], r.stderr.strip()))
    r = run([sys.executable, os.path.join(AIE_DIR, "gemm_int8.py"), "--dev",
             "npu1", "-M", "1536", "-K", "64", "-N", "1536", "--batch", "6",
             "--b-offset", "589824", "--plan"])
    check(r.returncode == 0 and "216 tiles per core per run" in r.stdout
          and "B from byte 589824" in r.stdout,
          "gemm_int8.py --batch 6 --b-offset 589824 --plan: %s %s"
          % (r.stdout[:300], r.stderr.strip()))
    r = run([sys.executable, os.path.join(AIE_DIR, "gemm_int8.py"), "--dev",
             "npu1", "-M", "1536", "-K", "64", "-N", "1536", "--batch", "6",
             "--b-offset", "4096", "--plan"])
    check(r.returncode == 1 and "overlaps" in r.stderr,
          "gemm_int8.py took an overlapping --b-offset: %s" % r.stderr.strip())


def check_plan_groups(plan, tag):
    """The task groups: one per (GEMM, row block), opened once, finished
    once, each with every column's drain of C and fill of B and every
    array row's fill of A, at most GROUPS_IN_FLIGHT open at a time."""
    opened, finished, open_now, worst = [], set(), set(), 0
    members = {}
    for op in plan.ops:
        if op[0] == "group":
            opened.append(op[1])
            open_now.add(op[1])
            worst = max(worst, len(open_now))
        elif op[0] == "finish":
            check(op[1] in open_now, tag + ": group %d finished unopened"
                  % op[1])
            open_now.discard(op[1])
            finished.add(op[1])
        else:
            check(op[4] in open_now, tag + ": %s %s in closed group %d"
                  % (op[0], op[1], op[4]))
            members.setdefault(op[4], []).append((op[1], op[2]))
    n = plan.batch * plan.row_blocks
    check(opened == list(range(n)) and finished == set(range(n))
          and not open_now, tag + ": groups %s..., not 0..%d once each"
          % (opened[:4], n - 1))
    check(worst <= gemm_int8.GROUPS_IN_FLIGHT, tag + ": %d groups open"
          % worst)
    want = sorted([("C", c) for c in range(plan.cols)]
                  + [("B", c) for c in range(plan.cols)]
                  + [("A", r) for r in range(gemm_int8.ROWS)])
    for g in range(n):
        if not check(sorted(members.get(g, [])) == want,
                     tag + ": group %d moves %s" % (g, members.get(g))):
            break


POISON = 0x5a    # the packed buffer's bytes between A and B


def simulate(plan, np, rng):
    """Runs @plan's data movement and the kernel's arithmetic on random
    int8 matrices, batch of them, in the runtime sequence's buffers as the
    host fills them (packed: A, poison, B in one); problems are reported
    through check()."""
    M, K, N, m, k, n = plan.M, plan.K, plan.N, plan.m, plan.k, plan.n
    r, s, t, R, cols = plan.r, plan.s, plan.t, gemm_int8.ROWS, plan.cols
    batch, b_offset = plan.batch, plan.b_offset
    tag = "%s %dx%dx%dx%d tile %dx%dx%d b_offset %d" % (
        plan.device, batch, M, K, N, m, k, n, b_offset)
    A = rng.integers(-128, 128, size=(batch, M, K), dtype=np.int64)
    B = rng.integers(-128, 128, size=(batch, K, N), dtype=np.int64)
    # the extremes: whole K of -128 x -128 must not wrap
    A[:, 0, :] = -128
    B[:, :, 0] = -128
    a_end = batch * M * K
    if plan.packed:
        ab = np.full(b_offset + batch * K * N, POISON, dtype=np.int64)
        ab[:a_end] = A.reshape(-1)
        ab[b_offset:] = B.reshape(-1)
        src = {"A": ab, "B": ab}
    else:
        src = {"A": A.reshape(-1), "B": B.reshape(-1)}
    check([size for _, _, size in plan.args]
          == ([b_offset + batch * K * N] if plan.packed
              else [a_end, batch * K * N]) + [batch * M * N],
          tag + ": arguments %s" % plan.args)
    # reads of each operand, over the buffer it is read from
    reads = {buf: np.zeros(src[buf].size, dtype=np.int64) for buf in src}

    def pattern(offset, dims):
        idx = np.array([offset], dtype=np.int64)
        for size, stride in dims:
            idx = (idx[:, None] + np.arange(size) * stride).reshape(-1)
        return idx

    a_stream = {row: [] for row in range(R)}
    b_stream = {c: [] for c in range(cols)}
    c_dest = {c: [] for c in range(cols)}
    for op in plan.ops:
        if op[0] not in ("fill", "drain"):
            continue
        _, buf, idx, shim, g, offset, sizes, strides, _ = op
        where = pattern(offset, list(zip(sizes, strides)))
        size = src[buf].size if buf != "C" else batch * M * N
        if not check(where.min() >= 0 and where.max() < size,
                     tag + ": %s %s%d group %d outside its buffer"
                     % (op[0], buf, idx, g)):
            return
        if buf == "A":
            check(shim == plan.a_col(idx), tag + ": A%d on shim %d" % (idx, shim))
            a_stream[idx].append(src["A"][where])
        elif buf == "B":
            b_stream[idx].append(src["B"][where])
        else:
            c_dest[idx].append(where)
        if buf != "C":
            np.add.at(reads[buf], where, 1)

    # A is reused for every column block of a row block, B for every row
    # block; nothing else is read, the packed poison least of all
    a_reads, b_reads = reads["A"], reads["B"]
    b_lo = b_offset if plan.packed else 0
    check(bool((a_reads[:a_end] == plan.col_blocks).all())
          and not a_reads[a_end:].any(),
          tag + ": A read other than %d times each, within its batch"
          % plan.col_blocks)
    check(bool((b_reads[b_lo:] == plan.row_blocks).all())
          and not b_reads[:b_lo].any(),
          tag + ": B read other than %d times each, from b_offset"
          % plan.row_blocks)
    if plan.packed:
        check(not (a_reads[a_end:b_offset] + b_reads[a_end:b_offset]).any(),
              tag + ": %d poisoned bytes between A and B read"
              % int(np.count_nonzero(a_reads[a_end:b_offset]
                                     + b_reads[a_end:b_offset])))

    n_obj = plan.core_iterations * plan.k_steps
    a_l1 = pattern(0, plan.a_l1_dims)
    b_l1 = pattern(0, plan.b_l1_dims)
    a_objs, b_objs = {}, {}
    for row in range(R):
        st = np.concatenate(a_stream[row])
        if not check(st.size == n_obj * m * k, tag + ": A%d carries %d "
                     "objects, cores take %d" % (row, st.size // (m * k), n_obj)):
            return
        a_objs[row] = st.reshape(n_obj, m * k)[:, a_l1]
    for c in range(cols):
        st = np.concatenate(b_stream[c])
        if not check(st.size == n_obj * k * n, tag + ": B%d carries %d "
                     "objects, cores take %d" % (c, st.size // (k * n), n_obj)):
            return
        b_objs[c] = st.reshape(n_obj, k * n)[:, b_l1]

    def kernel(c_blk, a_blk, b_blk):
        # mm_int8.cc on the blocked layouts, in int64 to see overflow
        a = a_blk.reshape(m // r, k // s, r, s).transpose(0, 2, 1, 3)
        b = b_blk.reshape(k // s, n // t, s, t).transpose(0, 2, 1, 3)
        prod = a.reshape(m, k) @ b.reshape(k, n)
        blk = prod.reshape(m // r, r, n // t, t).transpose(0, 2, 1, 3)
        return c_blk + blk.reshape(-1)

    C = np.zeros(batch * M * N, dtype=np.int64)
    writes = np.zeros(batch * M * N, dtype=np.int64)
    c_l3 = pattern(0, plan.c_l3_dims)
    for c in range(cols):
        out = []
        for j in range(plan.core_iterations):
            joined = np.zeros(m * n * R, dtype=np.int64)
            for row in range(R):
                acc = np.zeros(m * n, dtype=np.int64)       # zero_i32
                for kk in range(plan.k_steps):
                    o = j * plan.k_steps + kk
                    acc = kernel(acc, a_objs[row][o], b_objs[c][o])
                off = plan.c_join_offsets[row]
                joined[off:off + m * n] = acc
            out.append(joined[c_l3])
        stream = np.concatenate(out)
        dest = np.concatenate(c_dest[c])
        if not check(dest.size == stream.size, tag + ": C%d drains %d "
                     "elements, cores send %d" % (c, dest.size, stream.size)):
            return
        C[dest] = stream
        np.add.at(writes, dest, 1)
    check(bool((writes == 1).all()), tag + ": %d C elements written %s"
          % (int((writes != 1).sum()), "not exactly once"))
    C = C.reshape(batch, M, N)
    for h in range(batch):
        want = A[h] @ B[h]
        check(bool((C[h] == want).all()), tag + ": h %d: %d C elements "
              "differ from the golden GEMM" % (h, int((C[h] != want).sum())))
        check(int(np.abs(want).max()) < 2 ** 31, tag + ": golden exceeds "
              "int32")


def test_simulation():
    try:
        import numpy as np
    except ImportError:
        print("SKIP: numpy not importable, the data movement simulation "
              "did not run")
        return
    rng = np.random.default_rng(20240611)
    cases = [
        # small tiles: 3 row blocks (groups overlap), 2 column blocks,
        # 3 k steps; one GEMM
        ("npu1", 8 * 4 * 3, 16 * 3, 16 * 4 * 2, 8, 16, 16),
        ("npu2", 16 * 4 * 3, 8 * 3, 16 * 8 * 2, 16, 8, 16),
        # the real tiles, n = 48 (6 column blocks of t = 8)
        ("npu1", 64 * 4 * 2, 64 * 2, 48 * 4 * 2, 64, 64, 48),
        ("npu2", 64 * 4 * 2, 64 * 2, 48 * 8, 64, 64, 48),
        # packed batch of 3, 2 row blocks (groups overlap across GEMMs):
        # 3 x 64 x 48 = 9216 bytes of A, B from 12288, poison between
        ("npu1", 8 * 4 * 2, 16 * 3, 16 * 4 * 2, 8, 16, 16, 3, 12288),
        # a batch of 2 over three buffers
        ("npu2", 16 * 4 * 3, 8 * 3, 16 * 8 * 2, 16, 8, 16, 2, 0),
        # packed with B further out than it has to be (6144 bytes of A)
        ("npu2", 16 * 4 * 2, 8 * 3, 16 * 8 * 2, 16, 8, 16, 2, 16384),
        # the real tiles, attention's Q K^T in small: K = 64, 2 heads
        ("npu1", 64 * 4 * 2, 64, 64 * 4 * 2, 64, 64, 64, 2, 65536),
    ]
    for args in cases:
        plan = gemm_int8.Plan(*args)
        simulate(plan, np, rng)
    print("simulated %d plans (%d batched)"
          % (len(cases), sum(1 for a in cases if len(a) > 7 and a[7] > 1)))


def test_kernel_on_host():
    cxx = os.environ.get("CXX") or next(
        (c for c in ("c++", "g++", "clang++") if shutil.which(c)), None)
    if not cxx:
        print("SKIP: no C++ compiler, mm_int8.cc not run on the host")
        return
    runs = 0
    with tempfile.TemporaryDirectory() as d:
        for variant in ([], ["-DWHISPER_AIE2P"]):
            for m, k, n in ((64, 64, 48), (64, 64, 16), (16, 8, 32)):
                exe = os.path.join(d, "mm-%d" % runs)
                cmd = [cxx, "-std=c++17", "-O1", "-Wall"] + variant + [
                    "-DDIM_M=%d" % m, "-DDIM_K=%d" % k, "-DDIM_N=%d" % n,
                    "-I", os.path.join(HERE, "aie-host"), "-I", AIE_DIR,
                    os.path.join(HERE, "mm-int8-host.cc"), "-o", exe]
                tag = "mm_int8.cc %dx%dx%d %s" % (m, k, n, " ".join(variant))
                b = run(cmd)
                if not check(b.returncode == 0, tag + " does not build on "
                             "the host: " + b.stderr[-1500:]):
                    continue
                r = run([exe])
                check(r.returncode == 0 and " 0 wrong" in r.stdout,
                      tag + ": " + (r.stdout + r.stderr).strip()[-1500:])
                runs += 1
    print("ran mm_int8.cc on the host for %d tile/mmul shapes" % runs)


def test_sources():
    for name in sorted(os.listdir(AIE_DIR)):
        if name.endswith(".py"):
            try:
                py_compile.compile(os.path.join(AIE_DIR, name), doraise=True,
                                   cfile=os.path.join(tempfile.gettempdir(),
                                                      name + ".pyc-check"))
            except py_compile.PyCompileError as e:
                check(False, "%s does not compile: %s" % (name, e))
    for name in ("Makefile", "mm_int8.cc", "README.md", "shapes.py",
                 "gemm_int8.py", "write_manifest.py"):
        check(os.path.isfile(os.path.join(AIE_DIR, name)), name + " missing")
    try:
        import aie.iron  # noqa: F401
    except ImportError:
        print("SKIP: the aie (mlir-aie) package is not importable, no MLIR "
              "generated")
        return
    r = run([sys.executable, os.path.join(AIE_DIR, "gemm_int8.py"), "--dev",
             "npu1", "-M", "1536", "-K", "384", "-N", "384", "-m", "64",
             "-k", "64", "-n", "48"])
    check(r.returncode == 0 and "aie.device" in r.stdout
          and "runtime_sequence" in r.stdout,
          "gemm_int8.py gave no MLIR: %s" % r.stderr[-2000:])
    # a packed batch: tiny's Q K^T, two runtime-sequence arguments
    r = run([sys.executable, os.path.join(AIE_DIR, "gemm_int8.py"), "--dev",
             "npu1", "-M", "1536", "-K", "64", "-N", "1536", "-m", "64",
             "-k", "64", "-n", "64", "--batch", "6", "--b-offset", "589824"])
    check(r.returncode == 0 and "runtime_sequence" in r.stdout,
          "gemm_int8.py gave no MLIR for a packed batch: %s"
          % r.stderr[-2000:])


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    test_table(sys.argv[1])
    test_manifest()
    test_plans()
    test_simulation()
    test_kernel_on_host()
    test_sources()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
