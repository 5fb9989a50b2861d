#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The GEMM programs a Whisper encoder runs on the NPU, per generation.

The same table as npu-backend/npu-shapes.c (npu_encoder_programs); the test
npu-aie-shapes compares the two line for line, so change both together.

Each encoder needs seven int8 GEMM programs; a program computes batch
GEMMs per run, C_h[M][N] int32 = A_h[M][K] x B_h[K][N] for h < batch
(npu-backend/npu-device.h).  Five run one GEMM (batch 1), named
"gemm-MxKxN": conv1 as im2col (3000 frames x n_mels*3 taps), the fused
q/k/v projection, the attention output projection, fc1 and fc2 (1500
positions).  Attention's two run all n_head heads of a layer at once,
named "bgemm-BATCHxMxKxN", with packed operands (A and B in one buffer, B
from byte b_offset, the first 4096-byte boundary at or after the batch of
A): Q K^T (64 channels) and [P_hi; P_lo] V (two int8 rows of the
probabilities per query, docs/quantization.md).  M is padded to whole
rows of the array (4 cores of tile_m rows), K to the k tile; the
projections' N is never padded, so the n tile is the widest of
64/48/32/16 that splits N evenly over the array's columns; attention's N
(keys, a head's channels) is padded to whole n tiles.

usage: shapes.py [--gen xdna1|xdna2]... [--model NAME]... [--format table|make]
  table (default): one line per program,
        "gen model M K N tile_m tile_k tile_n batch b_offset"
  make: one word per distinct program of the selection,
        "name:M:K:N:tile_m:tile_k:tile_n:batch:b_offset" (for the Makefile)
"""
import argparse
import sys

TILE_M = 64
TILE_K = 64
ARRAY_ROWS = 4          # compute tiles per column, both generations
WINDOW_FRAMES = 3000    # mel frames of a 30 s window (conv1's rows)
POSITIONS = 1500        # encoder positions after conv2's stride 2
CONV_K = 3              # conv1's kernel width
HEAD_SIZE = 64          # n_state / n_head of every Whisper model
PACK_ALIGN = 4096       # B's offset in packed operands: a page

# generation -> (device name of mlir-aie, columns of compute tiles)
GENERATIONS = {
    "xdna1": ("npu1", 4),    # Phoenix, Hawk Point
    "xdna2": ("npu2", 8),    # Strix, Strix Halo, Krackan
}

# model -> (n_mels, n_state, n_head); the order is the printing order
MODELS = {
    "tiny": (80, 384, 6),
    "base": (80, 512, 8),
    "small": (80, 768, 12),
    "medium": (80, 1024, 16),
    "large": (80, 1280, 20),
    "large-v2": (80, 1280, 20),
    "large-v3": (128, 1280, 20),
}

# other names of the same encoders
ALIASES = {
    "tiny.en": "tiny",
    "base.en": "base",
    "small.en": "small",
    "medium.en": "medium",
    "large-v1": "large",
    "large-v3-turbo": "large-v3",
    "turbo": "large-v3",
}


def round_up(x, to):
    return (x + to - 1) // to * to


def tile_n_for(N, cols):
    """The widest n tile (a multiple of 16 up to 64) dividing N into the
    array's columns, or 0 when none does."""
    for n in (64, 48, 32, 16):
        if N % (n * cols) == 0:
            return n
    return 0


def program_name(M, K, N, batch=1):
    """The engine's name of a program (npu-shapes.c): "gemm-MxKxN" for
    one GEMM per run, "bgemm-BATCHxMxKxN" for a batch."""
    if batch == 1:
        return "gemm-%dx%dx%d" % (M, K, N)
    return "bgemm-%dx%dx%dx%d" % (batch, M, K, N)


def encoder_programs(n_mels, n_state, n_head, generation):
    """The seven programs of an encoder, as dicts with name, M, K, N,
    tile_m, tile_k, tile_n, batch and b_offset (0: A, B and C are three
    buffers; > 0: packed operands, B in A's buffer from this byte).  The
    last two (attention) are batched over the n_head heads.  Raises
    ValueError for an unknown generation, n_head < 1 or a width no n tile
    divides."""
    if generation not in GENERATIONS:
        raise ValueError("unknown generation %r (xdna1 or xdna2)" % generation)
    if n_head < 1:
        raise ValueError("n_head %d: an encoder has heads" % n_head)
    cols = GENERATIONS[generation][1]
    C = n_state
    Mp = round_up(POSITIONS, TILE_M * ARRAY_ROWS)
    shapes = [
        (round_up(WINDOW_FRAMES, TILE_M * ARRAY_ROWS),
         round_up(n_mels * CONV_K, TILE_K), C),      # conv1 (im2col)
        (Mp, C, 3 * C),                              # q k v
        (Mp, C, C),                                  # out
        (Mp, C, 4 * C),                              # fc1
        (Mp, 4 * C, C),                              # fc2
        (Mp, HEAD_SIZE, Mp),                         # a head's Q K^T
        (round_up(2 * POSITIONS, TILE_M * ARRAY_ROWS), POSITIONS,
         round_up(HEAD_SIZE, 16 * cols)),            # [P_hi; P_lo] V
    ]
    out = []
    for i, (M, K, N) in enumerate(shapes):
        K = round_up(K, TILE_K)
        tile_n = tile_n_for(N, cols)
        if not tile_n:
            raise ValueError("no n tile splits N=%d over %d columns"
                             % (N, cols))
        batch, b_offset = 1, 0
        if i >= len(shapes) - 2:
            # attention: every head of a layer in one run, both operands
            # in one buffer (they change together)
            batch = n_head
            b_offset = round_up(n_head * M * K, PACK_ALIGN)
        out.append({"name": program_name(M, K, N, batch), "M": M, "K": K,
                    "N": N, "tile_m": TILE_M, "tile_k": TILE_K,
                    "tile_n": tile_n, "batch": batch, "b_offset": b_offset})
    return out


def model_dims(model):
    """(n_mels, n_state, n_head) of a model name or alias; KeyError
    otherwise."""
    name = ALIASES.get(model, model)
    if name not in MODELS:
        raise KeyError("unknown model %r (known: %s)"
                       % (model, ", ".join(list(MODELS) + list(ALIASES))))
    return MODELS[name]


def table(generations=None, models=None):
    """[(generation, model, program)] in printing order: generation, then
    model, then the encoder's seven products."""
    rows = []
    for gen in generations or list(GENERATIONS):
        for model in models or list(MODELS):
            n_mels, n_state, n_head = model_dims(model)
            for p in encoder_programs(n_mels, n_state, n_head, gen):
                rows.append((gen, model, p))
    return rows


def distinct_programs(generation, models):
    """The programs of @models on @generation, each shape once (models
    share programs, e.g. large and large-v2), in first-use order; the
    name says the shape and batch, and b_offset follows from them."""
    seen = {}
    for _, _, p in table([generation], models):
        seen.setdefault(p["name"], p)
    return list(seen.values())


def table_line(gen, model, p):
    """One line of the table, as print-npu-shapes prints it"""
    return "%s %s %d %d %d %d %d %d %d %d" % (
        gen, model, p["M"], p["K"], p["N"], p["tile_m"], p["tile_k"],
        p["tile_n"], p["batch"], p["b_offset"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gen", action="append", choices=list(GENERATIONS),
                    help="generation (repeatable; default: all)")
    ap.add_argument("--model", action="append",
                    help="model (repeatable; default: all)")
    ap.add_argument("--format", choices=["table", "make"], default="table")
    args = ap.parse_args(argv)
    try:
        if args.format == "make":
            if not args.gen or len(args.gen) != 1:
                ap.error("--format make takes exactly one --gen")
            for p in distinct_programs(args.gen[0], args.model):
                print("%s:%d:%d:%d:%d:%d:%d:%d:%d" % (
                    p["name"], p["M"], p["K"], p["N"],
                    p["tile_m"], p["tile_k"], p["tile_n"],
                    p["batch"], p["b_offset"]))
            return 0
        for gen, model, p in table(args.gen, args.model):
            print(table_line(gen, model, p))
    except (KeyError, ValueError) as e:
        print("shapes.py: %s" % (e.args[0] if e.args else e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
