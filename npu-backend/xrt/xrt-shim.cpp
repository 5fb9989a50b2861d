/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The XRT shim: npu_device_ops (npu-device.h) over XRT's C++ API, built as
 * the module libwhisper-npu-xrt.so that npu-load.c opens with dlopen().
 *
 * What it calls, per device: xrt::device (index), then per xclbin path
 * xrt::xclbin, device.register_xclbin() and one xrt::hw_context; per
 * program an xrt::kernel, the instruction sequence in a cacheable bo
 * (group_id (1)), synced once, and one xrt::run reused for every run; per
 * buffer a host_only bo in the group of the kernel argument it is bound
 * to (npu_arg_index: A 3, B 4, C 5; with packed operands A and B in one bo
 * at 3, C at 4).  The kernel arguments are those of mlir-aie's host code
 * for its matrix multiplication designs.
 *
 * Every XRT call is inside try/catch: no C++ exception leaves this file.
 * Compiled and run here only against the stand-in XRT of
 * tests/xrt-standin/, never on an NPU.
 */
#include "npu-device.h"

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_hw_context.h>
#include <xrt/xrt_kernel.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <set>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

/* Where the amdxdna driver makes its nodes; the tests point it at the
 * stand-in's own directory. */
#ifndef NPU_XRT_ACCEL_DIR
#define NPU_XRT_ACCEL_DIR "/dev/accel"
#endif

#define DEFAULT_KERNEL "MLIR_AIE"

/* mlir-aie's opcode for "run the instruction sequence" (its host code
 * passes 3 as the kernel's first argument) */
#define MLIR_AIE_OPCODE 3u

/* B's offset in a packed buffer: whole pages (npu-device.h) */
#define PACK_ALIGN 4096u

/* A buffer's bytes and a shape's products stay below this, so that sizes
 * fit in size_t and nothing overflows on the way */
#define MAX_BYTES (1ull << 40)

namespace {

struct xclbin_entry {
  xrt::xclbin xclbin;
  xrt::hw_context context;
};

}  // namespace

struct npu_device {
  unsigned index = 0;
  xrt::device device;
  std::string description;
  /* by path: registered once, one context each, kept until close */
  std::map<std::string, xclbin_entry> xclbins;
  std::set<npu_program *> programs;
  size_t locked_bytes = 0;      /* of every bo alive, in whole pages */
  npu_counters counters {};
};

struct npu_program {
  npu_device *dev = nullptr;
  std::string name;
  /* the shape of the desc (M, K, N, tiles, batch >= 1, b_offset), its
   * strings cleared: for npu_arg_bytes () and npu_arg_index () */
  npu_program_desc shape {};
  xrt::kernel kernel;
  xrt::bo insts;
  size_t insts_locked = 0;
  uint32_t n_words = 0;
  xrt::run run;
  std::set<npu_buffer *> buffers;
};

struct npu_buffer {
  npu_program *prog = nullptr;
  npu_arg arg = NPU_ARG_A;
  size_t bytes = 0;
  size_t locked = 0;
  xrt::bo bo;
  void *host = nullptr;
};

namespace {

void set_error (npu_error * error, npu_status status, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

void
set_error (npu_error * error, npu_status status, const char *fmt, ...)
{
  if (!error)
    return;
  error->status = status;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (error->message, sizeof error->message, fmt, ap);
  va_end (ap);
}

void
clear_error (npu_error * error)
{
  if (error) {
    error->status = NPU_OK;
    error->message[0] = '\0';
  }
}

size_t
page_round (size_t bytes)
{
  long page = sysconf (_SC_PAGESIZE);
  const size_t p = page > 0 ? (size_t) page : 4096;
  return (bytes + p - 1) / p * p;
}

/* Buffers for the NPU are pinned; past RLIMIT_MEMLOCK the driver refuses
 * them with an errno that says little, so the shim checks first. */
bool
memlock_allows (const npu_device * dev, size_t more, const char *what,
    npu_error * error)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return true;
  const unsigned long long need = (unsigned long long) dev->locked_bytes
      + more;
  if (need <= (unsigned long long) rl.rlim_cur)
    return true;
  set_error (error, NPU_ERROR_MEMLOCK, "XRT: %s needs %llu bytes of locked "
      "memory in all (%zu more), but RLIMIT_MEMLOCK is %llu bytes; raise it "
      "(`ulimit -l unlimited` in the shell that starts the program, or a "
      "'memlock' line in /etc/security/limits.conf)", what, need, more,
      (unsigned long long) rl.rlim_cur);
  return false;
}

bool
have_accel_node (const char *dir)
{
  DIR *d = opendir (dir);
  if (!d)
    return false;
  bool found = false;
  while (struct dirent *e = readdir (d))
    if (std::strncmp (e->d_name, "accel", 5) == 0) {
      found = true;
      break;
    }
  closedir (d);
  return found;
}

/* The instruction sequence: little-endian 32-bit words, read byte by byte
 * so that the file means the same on any host. */
bool
read_insts (const char *path, std::vector<uint32_t> & words,
    npu_error * error)
{
  FILE *f = std::fopen (path, "rb");
  if (!f) {
    set_error (error, NPU_ERROR_MISSING_FILE, "XRT: cannot open the "
        "instruction file %s: %s", path, std::strerror (errno));
    return false;
  }
  std::vector<unsigned char> bytes;
  unsigned char chunk[65536];
  size_t n;
  while ((n = std::fread (chunk, 1, sizeof chunk, f)) > 0)
    bytes.insert (bytes.end (), chunk, chunk + n);
  const bool read_error = std::ferror (f) != 0;
  std::fclose (f);
  if (read_error) {
    set_error (error, NPU_ERROR_MISSING_FILE, "XRT: cannot read the "
        "instruction file %s", path);
    return false;
  }
  if (bytes.empty () || bytes.size () % 4 != 0) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "XRT: the instruction file %s "
        "has %zu bytes, not a whole number of 32-bit words", path,
        bytes.size ());
    return false;
  }
  words.resize (bytes.size () / 4);
  for (size_t i = 0; i < words.size (); i++) {
    const unsigned char *p = &bytes[4 * i];
    words[i] = (uint32_t) p[0] | (uint32_t) p[1] << 8
        | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
  }
  return true;
}

const char *
ert_state_name (ert_cmd_state s)
{
  switch (s) {
    case ERT_CMD_STATE_NEW:
      return "new";
    case ERT_CMD_STATE_QUEUED:
      return "queued";
    case ERT_CMD_STATE_RUNNING:
      return "running";
    case ERT_CMD_STATE_COMPLETED:
      return "completed";
    case ERT_CMD_STATE_ERROR:
      return "error";
    case ERT_CMD_STATE_ABORT:
      return "abort";
    case ERT_CMD_STATE_SUBMITTED:
      return "submitted";
    case ERT_CMD_STATE_TIMEOUT:
      return "timeout";
    case ERT_CMD_STATE_NORESPONSE:
      return "no response";
    default:
      return "other";
  }
}

/* ------------------------------------------------------------------------ */
/* The device */

npu_device *
xrt_open (const char *options, npu_error * error)
{
  clear_error (error);
  unsigned index = 0;
  if (options && *options) {
    char *end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul (options, &end, 10);
    if (errno || *end || options[0] == '-' || v > 255) {
      set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: the device options "
          "\"%s\" are not a device index (a decimal number)", options);
      return nullptr;
    }
    index = (unsigned) v;
  }
  const char *accel = NPU_XRT_ACCEL_DIR;
  if (!have_accel_node (accel)) {
    set_error (error, NPU_ERROR_NO_DEVICE, "XRT: no NPU: %s has no accel "
        "node, the amdxdna driver is not loaded (modprobe amdxdna; it "
        "needs Linux 6.14 or the out-of-tree xdna-driver)", accel);
    return nullptr;
  }
  npu_device *dev = nullptr;
  try {
    dev = new npu_device ();
    dev->index = index;
    dev->device = xrt::device (index);
  } catch (const std::bad_alloc &) {
    delete dev;
    set_error (error, NPU_ERROR_NO_MEMORY, "XRT: out of memory opening "
        "device %u", index);
    return nullptr;
  } catch (const std::exception & e) {
    delete dev;
    set_error (error, NPU_ERROR_DRIVER, "XRT: cannot open device %u (XRT, "
        "driver and firmware versions must match): %s", index, e.what ());
    return nullptr;
  } catch (...) {
    delete dev;
    set_error (error, NPU_ERROR_DRIVER, "XRT: cannot open device %u: "
        "unknown exception", index);
    return nullptr;
  }
  try {
    dev->description = "XRT device " + std::to_string (index) + ": "
        + dev->device.get_info<xrt::info::device::name> ();
  } catch (...) {
    try {
      dev->description = "XRT device " + std::to_string (index);
    } catch (...) {
    }
  }
  return dev;
}

void xrt_free_program (npu_program * prog);

void
xrt_close (npu_device * dev)
{
  if (!dev)
    return;
  while (!dev->programs.empty ())
    xrt_free_program (*dev->programs.begin ());
  try {
    /* contexts before the device that holds them */
    dev->xclbins.clear ();
    delete dev;
  } catch (...) {
  }
}

const char *
xrt_describe (npu_device * dev)
{
  return dev ? dev->description.c_str () : "XRT (no device)";
}

/* ------------------------------------------------------------------------ */
/* Programs */

bool
check_shape (const npu_program_desc * d, const char *name, npu_error * error)
{
  if (d->M <= 0 || d->K <= 0 || d->N <= 0 || d->tile_m <= 0
      || d->tile_k <= 0 || d->tile_n <= 0) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: no such shape "
        "%dx%dx%d (tiles %dx%dx%d)", name, d->M, d->K, d->N, d->tile_m,
        d->tile_k, d->tile_n);
    return false;
  }
  if (d->M % d->tile_m || d->K % d->tile_k || d->N % d->tile_n) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: %dx%dx%d is not a "
        "whole number of %dx%dx%d tiles", name, d->M, d->K, d->N, d->tile_m,
        d->tile_k, d->tile_n);
    return false;
  }
  if (d->batch < 0) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: a batch of %d GEMMs "
        "per run", name, d->batch);
    return false;
  }
  /* the buffers' sizes must fit in size_t, without overflow on the way */
  const unsigned long long batch = d->batch > 1 ? d->batch : 1;
  const unsigned long long a = (unsigned long long) d->M * d->K,
      b = (unsigned long long) d->K * d->N,
      c = (unsigned long long) d->M * d->N * sizeof (int32_t);
  if (a > MAX_BYTES / batch || b > MAX_BYTES / batch
      || c > MAX_BYTES / batch) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: %llu x %dx%dx%d is "
        "too large", name, batch, d->M, d->K, d->N);
    return false;
  }
  if (d->b_offset == 0)
    return true;
  /* packed operands: B after the whole batch of A, on a page of its own */
  if (d->b_offset < batch * a) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: B at byte %zu of the "
        "packed buffer overlaps A, whose batch (%llu x %dx%d) takes %llu "
        "bytes", name, d->b_offset, batch, d->M, d->K, batch * a);
    return false;
  }
  if (d->b_offset % PACK_ALIGN != 0) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: B at byte %zu of the "
        "packed buffer is not at a multiple of %u bytes", name, d->b_offset,
        PACK_ALIGN);
    return false;
  }
  if (d->b_offset > MAX_BYTES - batch * b) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "XRT: %s: B at byte %zu of the "
        "packed buffer is too far", name, d->b_offset);
    return false;
  }
  return true;
}

/* The xclbin of @path registered on @dev with its context: made on first
 * use, counted in contexts. */
xclbin_entry *
get_xclbin (npu_device * dev, const char *path, npu_error * error)
{
  auto it = dev->xclbins.find (path);
  if (it != dev->xclbins.end ())
    return &it->second;
  xclbin_entry e;
  try {
    e.xclbin = xrt::xclbin (std::string (path));
  } catch (const std::exception & ex) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "XRT: %s is not an xclbin XRT "
        "can read: %s", path, ex.what ());
    return nullptr;
  } catch (...) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "XRT: %s is not an xclbin XRT "
        "can read", path);
    return nullptr;
  }
  try {
    dev->device.register_xclbin (e.xclbin);
    e.context = xrt::hw_context (dev->device, e.xclbin.get_uuid ());
  } catch (const std::exception & ex) {
    set_error (error, NPU_ERROR_DRIVER, "XRT: device %u refused the xclbin "
        "%s (driver, firmware and the xclbin's XRT must match): %s",
        dev->index, path, ex.what ());
    return nullptr;
  } catch (...) {
    set_error (error, NPU_ERROR_DRIVER, "XRT: device %u refused the xclbin "
        "%s", dev->index, path);
    return nullptr;
  }
  try {
    auto r = dev->xclbins.emplace (path, std::move (e));
    dev->counters.contexts++;
    return &r.first->second;
  } catch (...) {
    set_error (error, NPU_ERROR_NO_MEMORY, "XRT: out of memory loading %s",
        path);
    return nullptr;
  }
}

npu_program *
xrt_load_program (npu_device * dev, const npu_program_desc * d,
    npu_error * error)
{
  clear_error (error);
  if (!dev || !d) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: load_program without a "
        "device or a program");
    return nullptr;
  }
  const char *name = d->name ? d->name : "(unnamed program)";
  if (!d->xclbin_path || !d->insts_path) {
    set_error (error, NPU_ERROR_MISSING_FILE, "XRT: %s: no %s path", name,
        !d->xclbin_path ? "xclbin" : "instruction file");
    return nullptr;
  }
  if (!check_shape (d, name, error))
    return nullptr;
  if (access (d->xclbin_path, R_OK) != 0) {
    set_error (error, NPU_ERROR_MISSING_FILE, "XRT: cannot read the xclbin "
        "%s: %s", d->xclbin_path, std::strerror (errno));
    return nullptr;
  }
  npu_program *prog = nullptr;
  try {
    std::vector<uint32_t> words;
    if (!read_insts (d->insts_path, words, error))
      return nullptr;
    if (words.size () > UINT32_MAX) {
      set_error (error, NPU_ERROR_BAD_PROGRAM, "XRT: the instruction file "
          "%s is too long", d->insts_path);
      return nullptr;
    }
    xclbin_entry *x = get_xclbin (dev, d->xclbin_path, error);
    if (!x)
      return nullptr;

    prog = new npu_program ();
    prog->dev = dev;
    prog->name = name;
    prog->shape = *d;
    prog->shape.name = nullptr;
    prog->shape.xclbin_path = nullptr;
    prog->shape.insts_path = nullptr;
    prog->shape.kernel_name = nullptr;
    if (prog->shape.batch < 1)
      prog->shape.batch = 1;
    prog->n_words = (uint32_t) words.size ();
    const char *kname = d->kernel_name ? d->kernel_name : DEFAULT_KERNEL;
    try {
      prog->kernel = xrt::kernel (x->context, kname);
    } catch (const std::exception & ex) {
      set_error (error, NPU_ERROR_BAD_PROGRAM, "XRT: %s: the xclbin %s has "
          "no kernel \"%s\": %s", name, d->xclbin_path, kname, ex.what ());
      delete prog;
      return nullptr;
    }

    const size_t bytes = words.size () * sizeof (uint32_t);
    const size_t locked = page_round (bytes);
    if (!memlock_allows (dev, locked, ("the instructions of " + prog->name)
            .c_str (), error)) {
      delete prog;
      return nullptr;
    }
    try {
      prog->insts = xrt::bo (dev->device, bytes, xrt::bo::flags::cacheable,
          prog->kernel.group_id (1));
      void *p = prog->insts.map<void *> ();
      std::memcpy (p, words.data (), bytes);
      prog->insts.sync (XCL_BO_SYNC_BO_TO_DEVICE, bytes, 0);
    } catch (const std::exception & ex) {
      set_error (error, NPU_ERROR_NO_MEMORY, "XRT: %s: cannot make the "
          "%zu-byte instruction buffer: %s", name, bytes, ex.what ());
      delete prog;
      return nullptr;
    }
    prog->insts_locked = locked;
    dev->locked_bytes += locked;
    dev->counters.instruction_loads++;

    /* The arguments of mlir-aie's MLIR_AIE kernel as its host code for
     * matrix multiplication passes them (mlir-aie,
     * programming_examples/basic/matrix_multiplication/test.cpp:
     * kernel (opcode, bo_instr, instr_v.size (), bo_a, bo_b, bo_out) with
     * opcode 3 and instr_v a vector of uint32_t): 0 the opcode, 1 the
     * instruction bo, 2 the instruction count in 32-bit words, 3 A, 4 B,
     * 5 C.  Some variants there (with tracing) pass two more bos, 6 and
     * 7; this shim sets only the six.  A design with packed operands
     * takes one bo less: 3 A and B, 4 C (npu_arg_index ()), and 5 is never
     * set on its run.  XRT copies a scalar's bytes up to
     * the argument's size, so a uint32_t count is what instr_v.size () is
     * on a little-endian host.  The opcode and the instructions are set
     * once here; run() sets the buffers each time. */
    try {
      prog->run = xrt::run (prog->kernel);
      unsigned int opcode = MLIR_AIE_OPCODE;
      uint32_t n_words = prog->n_words;
      prog->run.set_arg (0, opcode);
      prog->run.set_arg (1, prog->insts);
      prog->run.set_arg (2, n_words);
    } catch (const std::exception & ex) {
      set_error (error, NPU_ERROR_BAD_PROGRAM, "XRT: %s: kernel \"%s\" does "
          "not take mlir-aie's arguments: %s", name, kname, ex.what ());
      dev->locked_bytes -= prog->insts_locked;
      delete prog;
      return nullptr;
    }
    dev->programs.insert (prog);
    return prog;
  } catch (const std::bad_alloc &) {
    set_error (error, NPU_ERROR_NO_MEMORY, "XRT: out of memory loading %s",
        name);
  } catch (const std::exception & ex) {
    set_error (error, NPU_ERROR_DRIVER, "XRT: loading %s: %s", name,
        ex.what ());
  } catch (...) {
    set_error (error, NPU_ERROR_DRIVER, "XRT: loading %s: unknown exception",
        name);
  }
  if (prog) {
    if (dev->programs.erase (prog) == 0 && prog->insts_locked)
      dev->locked_bytes -= prog->insts_locked;
    try {
      delete prog;
    } catch (...) {
    }
  }
  return nullptr;
}

void xrt_free_buffer (npu_buffer * buf);

void
xrt_free_program (npu_program * prog)
{
  if (!prog)
    return;
  while (!prog->buffers.empty ())
    xrt_free_buffer (*prog->buffers.begin ());
  npu_device *dev = prog->dev;
  dev->programs.erase (prog);
  dev->locked_bytes -= prog->insts_locked;
  try {
    delete prog;
  } catch (...) {
  }
}

/* ------------------------------------------------------------------------ */
/* Buffers */

npu_buffer *
xrt_alloc (npu_program * prog, npu_arg arg, size_t bytes, npu_error * error)
{
  clear_error (error);
  if (!prog) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: alloc without a "
        "program");
    return nullptr;
  }
  static const char arg_names[] = "ABC";
  const npu_program_desc *shape = &prog->shape;
  if (arg == NPU_ARG_B && shape->b_offset) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: B has no buffer of "
        "its own: the program packs it into A's, from byte %zu",
        prog->name.c_str (), shape->b_offset);
    return nullptr;
  }
  if (arg != NPU_ARG_A && arg != NPU_ARG_B && arg != NPU_ARG_C) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: no operand %d",
        prog->name.c_str (), (int) arg);
    return nullptr;
  }
  const size_t need = npu_arg_bytes (shape, arg);
  if (need == 0 || bytes != need) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: buffer %c takes "
        "%zu bytes, not %zu", prog->name.c_str (), arg_names[arg], need,
        bytes);
    return nullptr;
  }
  npu_device *dev = prog->dev;
  const size_t locked = page_round (bytes);
  char what[160];
  snprintf (what, sizeof what, "buffer %c of %s", arg_names[arg],
      prog->name.c_str ());
  if (!memlock_allows (dev, locked, what, error))
    return nullptr;
  npu_buffer *buf = nullptr;
  try {
    buf = new npu_buffer ();
    buf->prog = prog;
    buf->arg = arg;
    buf->bytes = bytes;
    buf->bo = xrt::bo (dev->device, bytes, xrt::bo::flags::host_only,
        prog->kernel.group_id ((int) npu_arg_index (shape, arg)));
    buf->host = buf->bo.map<void *> ();
    std::memset (buf->host, 0, bytes);
    prog->buffers.insert (buf);
  } catch (const std::exception & ex) {
    set_error (error, NPU_ERROR_NO_MEMORY, "XRT: %s: cannot make the "
        "%zu-byte buffer %c: %s", prog->name.c_str (), bytes,
        arg_names[arg], ex.what ());
    try {
      delete buf;
    } catch (...) {
    }
    return nullptr;
  } catch (...) {
    set_error (error, NPU_ERROR_NO_MEMORY, "XRT: %s: cannot make the "
        "%zu-byte buffer %c", prog->name.c_str (), bytes, arg_names[arg]);
    try {
      delete buf;
    } catch (...) {
    }
    return nullptr;
  }
  buf->locked = locked;
  dev->locked_bytes += locked;
  dev->counters.buffer_allocs++;
  return buf;
}

void
xrt_free_buffer (npu_buffer * buf)
{
  if (!buf)
    return;
  buf->prog->buffers.erase (buf);
  buf->prog->dev->locked_bytes -= buf->locked;
  try {
    delete buf;
  } catch (...) {
  }
}

void *
xrt_map (npu_buffer * buf)
{
  return buf ? buf->host : nullptr;
}

npu_status
xrt_sync (npu_buffer * buf, npu_sync_direction direction, size_t bytes,
    size_t offset, npu_error * error)
{
  clear_error (error);
  if (!buf) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: sync without a buffer");
    return NPU_ERROR_BAD_ARGUMENT;
  }
  const char *name = buf->prog->name.c_str ();
  if (bytes == 0 && offset == 0)
    bytes = buf->bytes;
  if (offset > buf->bytes || bytes > buf->bytes - offset || bytes == 0) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: sync of [%zu, %zu) "
        "out of a %zu-byte buffer", name, offset, offset + bytes,
        buf->bytes);
    return NPU_ERROR_BAD_ARGUMENT;
  }
  if (direction != NPU_SYNC_TO_DEVICE && direction != NPU_SYNC_FROM_DEVICE) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: no sync direction "
        "%d", name, (int) direction);
    return NPU_ERROR_BAD_ARGUMENT;
  }
  const bool to = direction == NPU_SYNC_TO_DEVICE;
  try {
    buf->bo.sync (to ? XCL_BO_SYNC_BO_TO_DEVICE : XCL_BO_SYNC_BO_FROM_DEVICE,
        bytes, offset);
  } catch (const std::exception & ex) {
    set_error (error, NPU_ERROR_DRIVER, "XRT: %s: sync %s the device "
        "failed: %s", name, to ? "to" : "from", ex.what ());
    return NPU_ERROR_DRIVER;
  } catch (...) {
    set_error (error, NPU_ERROR_DRIVER, "XRT: %s: sync %s the device "
        "failed", name, to ? "to" : "from");
    return NPU_ERROR_DRIVER;
  }
  npu_counters &c = buf->prog->dev->counters;
  if (to) {
    c.syncs_to_device++;
    c.bytes_to_device += bytes;
  } else {
    c.syncs_from_device++;
    c.bytes_from_device += bytes;
  }
  return NPU_OK;
}

/* ------------------------------------------------------------------------ */
/* Runs */

npu_status
xrt_run (npu_program * prog, npu_buffer * a, npu_buffer * b, npu_buffer * c,
    unsigned timeout_ms, npu_error * error)
{
  clear_error (error);
  if (!prog) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: run without a program");
    return NPU_ERROR_BAD_ARGUMENT;
  }
  const char *name = prog->name.c_str ();
  const npu_program_desc *shape = &prog->shape;
  const bool packed = shape->b_offset != 0;
  npu_buffer *const args[3] = { a, b, c };
  for (int i = 0; i < 3; i++) {
    if (i == NPU_ARG_B && packed) {
      if (b) {
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: buffer B is "
            "given, but the program packs B into A's buffer", name);
        return NPU_ERROR_BAD_ARGUMENT;
      }
      continue;
    }
    if (!args[i] || args[i]->prog != prog || args[i]->arg != (npu_arg) i) {
      set_error (error, NPU_ERROR_BAD_ARGUMENT, "XRT: %s: buffer %c is %s",
          name, "ABC"[i], !args[i] ? "missing" : args[i]->prog != prog ?
          "a buffer of another program" : "a buffer of another operand");
      return NPU_ERROR_BAD_ARGUMENT;
    }
  }
  prog->dev->counters.runs++;
  ert_cmd_state st;
  try {
    prog->run.set_arg ((int) npu_arg_index (shape, NPU_ARG_A), a->bo);
    if (!packed)
      prog->run.set_arg ((int) npu_arg_index (shape, NPU_ARG_B), b->bo);
    prog->run.set_arg ((int) npu_arg_index (shape, NPU_ARG_C), c->bo);
    prog->run.start ();
    st = prog->run.wait (std::chrono::milliseconds (timeout_ms));
  } catch (const std::exception & ex) {
    set_error (error, NPU_ERROR_RUN, "XRT: %s: the run failed: %s", name,
        ex.what ());
    return NPU_ERROR_RUN;
  } catch (...) {
    set_error (error, NPU_ERROR_RUN, "XRT: %s: the run failed", name);
    return NPU_ERROR_RUN;
  }
  if (st == ERT_CMD_STATE_COMPLETED)
    return NPU_OK;
  /* wait() says ERT_CMD_STATE_TIMEOUT when the time passed (XRT's
   * xrt_kernel.h); a state still on its way after a timed wait is one too.
   * The run is aborted so that the next start() of this same xrt::run
   * finds it idle. */
  const bool in_flight = st == ERT_CMD_STATE_NEW || st == ERT_CMD_STATE_QUEUED
      || st == ERT_CMD_STATE_SUBMITTED || st == ERT_CMD_STATE_RUNNING;
  if (st == ERT_CMD_STATE_TIMEOUT || (timeout_ms > 0 && in_flight)) {
    ert_cmd_state after = st;
    try {
      after = prog->run.abort ();
    } catch (...) {
    }
    set_error (error, NPU_ERROR_TIMEOUT, "XRT: %s: the run did not finish "
        "within %u ms (aborted: %s)", name, timeout_ms,
        ert_state_name (after));
    return NPU_ERROR_TIMEOUT;
  }
  set_error (error, NPU_ERROR_RUN, "XRT: %s: the run ended in state %d "
      "(%s), not completed", name, (int) st, ert_state_name (st));
  return NPU_ERROR_RUN;
}

void
xrt_get_counters (npu_device * dev, npu_counters * counters)
{
  if (!counters)
    return;
  if (!dev) {
    *counters = npu_counters ();
    return;
  }
  *counters = dev->counters;
  counters->modelled_seconds = 0;
}

const npu_device_ops xrt_ops = {
  NPU_DEVICE_ABI_VERSION,
  "xrt",
  xrt_open,
  xrt_close,
  xrt_describe,
  xrt_load_program,
  xrt_free_program,
  xrt_alloc,
  xrt_free_buffer,
  xrt_map,
  xrt_sync,
  xrt_run,
  xrt_get_counters,
};

}  // namespace

extern "C" __attribute__((visibility ("default"))) const npu_device_ops *
whisper_npu_device_ops (void)
{
  return &xrt_ops;
}
