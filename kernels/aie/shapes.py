#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The GEMM programs a Whisper encoder runs on the NPU, per generation.

The same table as npu-backend/npu-shapes.c (npu_encoder_programs); the test
npu-aie-shapes compares the two line for line, so change both together.

Each encoder needs seven int8 GEMMs, C[M][N] int32 = A[M][K] x B[K][N]:
conv1 as im2col (3000 frames x n_mels*3 taps), the fused q/k/v projection,
the attention output projection, fc1 and fc2 (1500 positions), and per
head of the attention Q K^T (64 channels) and [P_hi; P_lo] V (two int8
rows of the probabilities per query, docs/quantization.md).  M is padded
to whole rows of the array (4 cores of tile_m rows), K to the k tile; the
projections' N is never padded, so the n tile is the widest of
64/48/32/16 that splits N evenly over the array's columns; attention's N
(keys, a head's channels) is padded to whole n tiles.

usage: shapes.py [--gen xdna1|xdna2]... [--model NAME]... [--format table|make]
  table (default): one line per program, "gen model M K N tile_m tile_k tile_n"
  make: one word per distinct program of the selection,
        "name:M:K:N:tile_m:tile_k:tile_n" (for the Makefile)
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

# generation -> (device name of mlir-aie, columns of compute tiles)
GENERATIONS = {
    "xdna1": ("npu1", 4),    # Phoenix, Hawk Point
    "xdna2": ("npu2", 8),    # Strix, Strix Halo, Krackan
}

# model -> (n_mels, n_state); the order is the printing order
MODELS = {
    "tiny": (80, 384),
    "base": (80, 512),
    "small": (80, 768),
    "medium": (80, 1024),
    "large": (80, 1280),
    "large-v2": (80, 1280),
    "large-v3": (128, 1280),
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


def program_name(M, K, N):
    return "gemm-%dx%dx%d" % (M, K, N)


def encoder_programs(n_mels, n_state, generation):
    """The seven programs of an encoder, as dicts with name, M, K, N,
    tile_m, tile_k, tile_n.  Raises ValueError for an unknown generation
    or a width no n tile divides."""
    if generation not in GENERATIONS:
        raise ValueError("unknown generation %r (xdna1 or xdna2)" % generation)
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
    for M, K, N in shapes:
        K = round_up(K, TILE_K)
        tile_n = tile_n_for(N, cols)
        if not tile_n:
            raise ValueError("no n tile splits N=%d over %d columns"
                             % (N, cols))
        out.append({"name": program_name(M, K, N), "M": M, "K": K, "N": N,
                    "tile_m": TILE_M, "tile_k": TILE_K, "tile_n": tile_n})
    return out


def model_dims(model):
    """(n_mels, n_state) of a model name or alias; KeyError otherwise."""
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
            n_mels, n_state = model_dims(model)
            for p in encoder_programs(n_mels, n_state, gen):
                rows.append((gen, model, p))
    return rows


def distinct_programs(generation, models):
    """The programs of @models on @generation, each shape once (models
    share shapes, e.g. large and large-v2), in first-use order."""
    seen = {}
    for _, _, p in table([generation], models):
        seen.setdefault(p["name"], p)
    return list(seen.values())


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
                print("%s:%d:%d:%d:%d:%d:%d" % (
                    p["name"], p["M"], p["K"], p["N"],
                    p["tile_m"], p["tile_k"], p["tile_n"]))
            return 0
        for gen, model, p in table(args.gen, args.model):
            print("%s %s %d %d %d %d %d %d" % (
                gen, model, p["M"], p["K"], p["N"],
                p["tile_m"], p["tile_k"], p["tile_n"]))
    except (KeyError, ValueError) as e:
        print("shapes.py: %s" % (e.args[0] if e.args else e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
