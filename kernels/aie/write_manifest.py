#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes manifest.json into a kernel directory: the programs built there,
their files and shapes, as the engine's manifest reader takes them.

usage: write_manifest.py --gen xdna1|xdna2 [--model NAME]... [--dir DIR]
                         [--no-check] [--stdout]

Every distinct program of the models (default: all) on the generation is
listed once, with its xclbin "<name>.xclbin" and instruction file
"<name>.insts.bin", named relative to DIR (default: the current
directory), its shape and tile, and its "batch" (GEMMs per run) and
"b_offset" (0, or packed operands: B's byte offset in A's buffer; see
npu-backend/npu-device.h).  Version 2: version 1 had neither field, and
a version 1 reader would take a batched, packed program for one GEMM
over three buffers, so it must refuse this one.

Unless --no-check, each file must exist in DIR and each instruction file
must be a non-empty whole number of 32-bit words; a missing or bad file
is an error (exit 1) and no manifest is written.
--stdout prints the manifest instead of writing it.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

FORMAT = "gst-whisper-npu-aie-manifest"
VERSION = 2                  # 2: "batch" and "b_offset" per program
KERNEL_NAME = "MLIR_AIE"     # aiecc.py's default xclbin kernel name


def manifest(generation, models=None):
    device = shapes.GENERATIONS[generation][0]
    programs = []
    for p in shapes.distinct_programs(generation, models):
        programs.append({
            "name": p["name"],
            "kernel": KERNEL_NAME,
            "xclbin": p["name"] + ".xclbin",
            "insts": p["name"] + ".insts.bin",
            "M": p["M"], "K": p["K"], "N": p["N"],
            "tile_m": p["tile_m"], "tile_k": p["tile_k"],
            "tile_n": p["tile_n"],
            "batch": p["batch"], "b_offset": p["b_offset"],
        })
    return {"format": FORMAT, "version": VERSION, "device": device,
            "generation": generation, "programs": programs}


def check_files(doc, directory):
    """The problems with the files of @doc in @directory (empty: none)."""
    problems = []
    for p in doc["programs"]:
        for key in ("xclbin", "insts"):
            path = os.path.join(directory, p[key])
            if not os.path.isfile(path):
                problems.append("%s: missing (%s of %s)"
                                % (path, key, p["name"]))
                continue
            size = os.path.getsize(path)
            if key == "insts" and (size == 0 or size % 4):
                problems.append("%s: %d bytes, not a whole number of "
                                "32-bit instruction words" % (path, size))
            elif size == 0:
                problems.append("%s: empty" % path)
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gen", required=True, choices=list(shapes.GENERATIONS))
    ap.add_argument("--model", action="append",
                    help="model (repeatable; default: all)")
    ap.add_argument("--dir", default=".")
    ap.add_argument("--no-check", action="store_true",
                    help="do not require the files to exist")
    ap.add_argument("--stdout", action="store_true")
    args = ap.parse_args(argv)
    try:
        doc = manifest(args.gen, args.model)
    except (KeyError, ValueError) as e:
        print("write_manifest.py: %s" % (e.args[0] if e.args else e),
              file=sys.stderr)
        return 1
    if not args.no_check:
        problems = check_files(doc, args.dir)
        for line in problems:
            print("write_manifest.py: %s" % line, file=sys.stderr)
        if problems:
            return 1
    text = json.dumps(doc, indent=2) + "\n"
    if args.stdout:
        sys.stdout.write(text)
        return 0
    path = os.path.join(args.dir, "manifest.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    print("wrote %s (%d programs, %s)" % (path, len(doc["programs"]),
                                          doc["device"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
