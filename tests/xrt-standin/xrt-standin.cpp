/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stand-in XRT (xrt-standin.h says what it models): just enough of
 * XRT's C++ classes for npu-backend/xrt/xrt-shim.cpp to be compiled and run
 * here, where there is no NPU and no XRT, with a log of every call. */
#include "xrt-standin.h"

#include "xrt/xrt_bo.h"
#include "xrt/xrt_device.h"
#include "xrt/xrt_hw_context.h"
#include "xrt/xrt_kernel.h"

#include "npu-golden.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

struct standin_state {
  xrt_standin_counts counts {};
  std::vector<xrt_standin_bo_record> bos;
  std::vector<xrt_standin_sync_record> syncs;
  std::vector<xrt_standin_run_record> runs;
  int next_run_state = 0;
  bool fail_open = false;
  std::string fail_open_what;
  bool fail_register = false;
  std::string fail_register_what;
  int next_bo_id = 0;
  int next_run_id = 0;
  std::string accel_dir;
  bool driver_loaded = true;
};

standin_state &
standin ()
{
  static standin_state s;
  return s;
}

std::string
accel_node ()
{
  return std::string (xrt_standin_accel_dir ()) + "/accel0";
}

void
remove_accel_dir ()
{
  standin_state &s = standin ();
  if (s.accel_dir.empty ())
    return;
  unlink ((s.accel_dir + "/accel0").c_str ());
  rmdir (s.accel_dir.c_str ());
}

void
make_accel_node (bool loaded)
{
  const std::string node = accel_node ();
  if (loaded) {
    FILE *f = std::fopen (node.c_str (), "w");
    if (f)
      std::fclose (f);
  } else
    unlink (node.c_str ());
}

/* two FNV-1a hashes of the bytes: a uuid that differs for different
 * files and is the same for the same file read twice */
void
hash_uuid (const std::string & bytes, unsigned char out[16])
{
  uint64_t h[2] = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };
  for (int j = 0; j < 2; j++)
    for (unsigned char c : bytes) {
      h[j] ^= c + j;
      h[j] *= 0x100000001b3ull;
    }
  for (int i = 0; i < 16; i++)
    out[i] = (unsigned char) (h[i / 8] >> (8 * (i % 8)));
}

uint32_t
read_le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
      | (uint32_t) p[3] << 24;
}

}  // namespace

/* ------------------------------------------------------------------------ */
/* The implementation classes behind the handles */

namespace xrt {

class xclbin_impl
{
public:
  std::string path;
  uuid id;
  std::vector<std::string> kernels;
};

class device_impl
{
public:
  unsigned index = 0;
  std::map<uuid, std::shared_ptr<xclbin_impl>> registered;
};

class hw_context_impl
{
public:
  std::shared_ptr<device_impl> dev;
  std::shared_ptr<xclbin_impl> xclbin;
};

class kernel_impl
{
public:
  std::shared_ptr<hw_context_impl> ctx;
  std::string name;
};

class bo_impl
{
public:
  int id = -1;
  uint32_t flags = 0;
  uint32_t group = 0;
  std::vector<unsigned char> host, dev;

  ~bo_impl ()
  {
    standin ().counts.bos_live--;
  }
};

struct run_arg {
  std::vector<unsigned char> value;
  std::shared_ptr<bo_impl> bo;
};

class run_impl
{
public:
  std::shared_ptr<kernel_impl> krnl;
  int id = -1;
  std::map<int, run_arg> args;
  ert_cmd_state st = ERT_CMD_STATE_NEW;
  bool hung = false;
  size_t record = (size_t) -1;   /* its last entry in the run log */

  void set_state (ert_cmd_state s)
  {
    st = s;
    standin_state &g = standin ();
    if (record < g.runs.size ())
      g.runs[record].state = (int) s;
  }

  uint64_t scalar (int index, size_t * bytes) const
  {
    auto it = args.find (index);
    uint64_t v = 0;
    *bytes = 0;
    if (it == args.end () || it->second.bo)
      return 0;
    const std::vector<unsigned char> &b = it->second.value;
    for (size_t i = 0; i < b.size () && i < 8; i++)
      v |= (uint64_t) b[i] << (8 * i);
    *bytes = b.size ();
    return v;
  }

  bo_impl *buffer (int index) const
  {
    auto it = args.find (index);
    return it == args.end () ? nullptr : it->second.bo.get ();
  }

  /* the kernel's work (xrt-standin.h); false: the command ends in the
   * error state */
  bool execute (xrt_standin_run_record & rec)
  {
    if (rec.opcode != 3)
      return false;
    bo_impl *insts = buffer (1);
    if (!insts || insts->group != XRT_STANDIN_GROUP (1))
      return false;
    /* the count is of 32-bit words; a count of bytes runs past the end */
    if (rec.word_count < 6 || rec.word_count * 4 > insts->dev.size ())
      return false;
    const unsigned char *w = insts->dev.data ();
    if (read_le32 (w) != XRT_STANDIN_INSTS_MAGIC)
      return false;
    const int M = (int) read_le32 (w + 4), K = (int) read_le32 (w + 8),
        N = (int) read_le32 (w + 12), batch = (int) read_le32 (w + 16);
    const size_t b_offset = read_le32 (w + 20);
    if (M <= 0 || K <= 0 || N <= 0 || M > 65536 || K > 65536 || N > 65536
        || batch <= 0 || batch > 4096)
      return false;
    rec.M = M;
    rec.K = K;
    rec.N = N;
    rec.batch = batch;
    rec.b_offset = b_offset;
    /* A_h at byte h M K, B_h at h K N from where B starts, C_h at element
     * h M N */
    const size_t a_step = (size_t) M * K, b_step = (size_t) K * N,
        c_step = (size_t) M * N;
    const bool packed = b_offset != 0;
    const int c_arg = packed ? 4 : 5;
    bo_impl *a = buffer (3), *b = packed ? a : buffer (4),
        *c = buffer (c_arg);
    if (!a || a->group != XRT_STANDIN_GROUP (3) || !b
        || b->group != XRT_STANDIN_GROUP (packed ? 3 : 4) || !c
        || c->group != XRT_STANDIN_GROUP (c_arg))
      return false;
    /* a packed design's kernel has five arguments: a sixth is an error */
    if (packed && (buffer (5) || b_offset < batch * a_step
            || b_offset % 4096 != 0))
      return false;
    const size_t b_start = packed ? b_offset : 0;
    if (a->dev.size () < batch * a_step
        || b->dev.size () < b_start + batch * b_step
        || c->dev.size () < batch * c_step * 4)
      return false;
    std::vector<int32_t> out (c_step);
    for (int h = 0; h < batch; h++) {
      npu_golden_gemm_s8s32 (out.data (),
          (const int8_t *) a->dev.data () + h * a_step,
          (const int8_t *) b->dev.data () + b_start + h * b_step, M, K, N);
      std::memcpy (c->dev.data () + h * c_step * 4, out.data (), c_step * 4);
    }
    return true;
  }
};

/* ------------------------------------------------------------------------ */

std::string
uuid::to_string () const
{
  char s[40];
  int n = 0;
  for (int i = 0; i < 16; i++) {
    n += std::snprintf (s + n, sizeof s - n, "%02x", m_uuid[i]);
    if (i == 3 || i == 5 || i == 7 || i == 9)
      s[n++] = '-';
  }
  s[n] = '\0';
  return s;
}

xclbin::xclbin (const std::string & filename)
{
  std::ifstream f (filename, std::ios::binary);
  if (!f)
    throw std::runtime_error ("stand-in XRT: cannot open xclbin '" + filename
        + "': " + std::strerror (errno));
  const std::string bytes ((std::istreambuf_iterator<char> (f)),
      std::istreambuf_iterator<char> ());
  std::istringstream lines (bytes);
  std::string line;
  if (!std::getline (lines, line) || line != XRT_STANDIN_XCLBIN_MAGIC)
    throw std::runtime_error ("stand-in XRT: '" + filename
        + "' is not an xclbin (no magic)");
  auto impl = std::make_shared<xclbin_impl> ();
  impl->path = filename;
  while (std::getline (lines, line))
    if (line.compare (0, 7, "kernel ") == 0)
      impl->kernels.push_back (line.substr (7));
  unsigned char id[16];
  hash_uuid (bytes, id);
  impl->id = uuid (id);
  handle = impl;
  standin ().counts.xclbins_read++;
}

xclbin::xclbin (const std::string_view &)
{
  throw std::runtime_error ("stand-in XRT: xclbin from memory is not "
      "modelled");
}

uuid
xclbin::get_uuid () const
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: empty xclbin");
  return handle->id;
}

device::device (unsigned int didx)
{
  standin_state &s = standin ();
  if (s.fail_open)
    throw std::runtime_error (s.fail_open_what);
  if (!s.driver_loaded)
    throw std::runtime_error ("stand-in XRT: no devices found");
  if (didx != 0)
    throw std::runtime_error ("stand-in XRT: device index "
        + std::to_string (didx) + " out of range (1 device)");
  auto impl = std::make_shared<device_impl> ();
  impl->index = didx;
  handle = impl;
  s.counts.devices_opened++;
}

std::string
device::get_info_string (info::device param) const
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: empty device");
  standin ().counts.device_name_queries++;
  if (param == info::device::name)
    return "Stand-in NPU";
  if (param == info::device::bdf)
    return "0000:00:00.0";
  throw std::runtime_error ("stand-in XRT: no such device info");
}

uuid
device::register_xclbin (const xrt::xclbin & xclbin)
{
  standin_state &s = standin ();
  if (!handle || !xclbin)
    throw std::runtime_error ("stand-in XRT: register_xclbin on an empty "
        "device or xclbin");
  if (s.fail_register)
    throw std::runtime_error (s.fail_register_what);
  handle->registered[xclbin.get_uuid ()] = xclbin.get_handle ();
  s.counts.registers++;
  return xclbin.get_uuid ();
}

hw_context::hw_context (const xrt::device & device, const xrt::uuid & id,
    access_mode)
{
  if (!device)
    throw std::runtime_error ("stand-in XRT: hw_context on an empty device");
  auto it = device.get_handle ()->registered.find (id);
  if (it == device.get_handle ()->registered.end ())
    throw std::runtime_error ("stand-in XRT: xclbin " + id.to_string ()
        + " is not registered on the device");
  auto impl = std::make_shared<hw_context_impl> ();
  impl->dev = device.get_handle ();
  impl->xclbin = it->second;
  handle = impl;
  standin ().counts.hw_contexts++;
}

xrt::device
hw_context::get_device () const
{
  throw std::runtime_error ("stand-in XRT: hw_context::get_device is not "
      "modelled");
}

xrt::uuid
hw_context::get_xclbin_uuid () const
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: empty hw_context");
  return handle->xclbin->id;
}

kernel::kernel (const xrt::hw_context & ctx, const std::string & name)
{
  if (!ctx)
    throw std::runtime_error ("stand-in XRT: kernel on an empty context");
  bool found = false;
  for (const std::string &k : ctx.get_handle ()->xclbin->kernels)
    found = found || k == name;
  if (!found)
    throw std::runtime_error ("stand-in XRT: no compute unit for kernel '"
        + name + "' in " + ctx.get_handle ()->xclbin->path);
  auto impl = std::make_shared<kernel_impl> ();
  impl->ctx = ctx.get_handle ();
  impl->name = name;
  handle = impl;
  standin ().counts.kernels++;
}

int
kernel::group_id (int argno) const
{
  if (!handle || argno < 0 || argno > 7)
    throw std::runtime_error ("stand-in XRT: group_id of argument "
        + std::to_string (argno));
  return (int) XRT_STANDIN_GROUP (argno);
}

bo::bo (const xrt::device & device, size_t sz, bo::flags flags,
    memory_group grp)
{
  if (!device)
    throw std::runtime_error ("stand-in XRT: bo on an empty device");
  if (sz == 0)
    throw std::runtime_error ("stand-in XRT: bo of 0 bytes");
  standin_state &s = standin ();
  auto impl = std::make_shared<bo_impl> ();
  impl->id = s.next_bo_id++;
  impl->flags = (uint32_t) flags;
  impl->group = grp;
  /* neither copy starts zeroed: the shim must clear what it hands out,
   * and a result read without a sync is garbage */
  impl->host.assign (sz, 0xcd);
  impl->dev.assign (sz, 0x5a);
  handle = impl;
  s.counts.bos++;
  s.counts.bos_live++;
  s.bos.push_back ({ impl->id, impl->flags, impl->group, sz });
}

size_t
bo::size () const
{
  return handle ? handle->host.size () : 0;
}

memory_group
bo::get_memory_group () const
{
  return handle ? handle->group : 0;
}

bo::flags
bo::get_flags () const
{
  return handle ? (bo::flags) handle->flags : bo::flags::normal;
}

void
bo::sync (xclBOSyncDirection dir, size_t sz, size_t offset)
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: sync of an empty bo");
  const size_t n = handle->host.size ();
  if (offset > n || sz > n - offset)
    throw std::runtime_error ("stand-in XRT: sync of [" + std::to_string
        (offset) + ", " + std::to_string (offset + sz) + ") in a "
        + std::to_string (n) + "-byte bo");
  standin_state &s = standin ();
  if (dir == XCL_BO_SYNC_BO_TO_DEVICE) {
    std::memcpy (handle->dev.data () + offset, handle->host.data () + offset,
        sz);
    s.counts.syncs_to_device++;
    s.counts.bytes_to_device += sz;
  } else if (dir == XCL_BO_SYNC_BO_FROM_DEVICE) {
    std::memcpy (handle->host.data () + offset, handle->dev.data () + offset,
        sz);
    s.counts.syncs_from_device++;
    s.counts.bytes_from_device += sz;
  } else
    throw std::runtime_error ("stand-in XRT: sync direction not modelled");
  s.syncs.push_back ({ handle->id, (int) dir, sz, offset });
}

void *
bo::map ()
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: map of an empty bo");
  return handle->host.data ();
}

void
bo::write (const void *src, size_t size, size_t seek)
{
  if (!handle || seek > handle->host.size ()
      || size > handle->host.size () - seek)
    throw std::runtime_error ("stand-in XRT: write out of the bo");
  std::memcpy (handle->host.data () + seek, src, size);
}

run::run (const kernel & krnl)
{
  if (!krnl)
    throw std::runtime_error ("stand-in XRT: run of an empty kernel");
  auto impl = std::make_shared<run_impl> ();
  impl->krnl = krnl.get_handle ();
  impl->id = standin ().next_run_id++;
  handle = impl;
  standin ().counts.run_objects++;
}

void
run::set_arg_at_index (int index, const void *value, size_t bytes)
{
  if (!handle || index < 0 || index > 7)
    throw std::runtime_error ("stand-in XRT: no kernel argument "
        + std::to_string (index));
  run_arg a;
  a.value.assign ((const unsigned char *) value,
      (const unsigned char *) value + bytes);
  handle->args[index] = a;
}

void
run::set_arg_at_index (int index, const xrt::bo & boh)
{
  if (!handle || index < 0 || index > 7 || !boh)
    throw std::runtime_error ("stand-in XRT: no kernel argument "
        + std::to_string (index) + " or an empty bo");
  run_arg a;
  a.bo = boh.get_handle ();
  handle->args[index] = a;
}

void
run::start ()
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: start of an empty run");
  standin_state &s = standin ();
  s.counts.starts++;
  if (handle->hung)
    throw std::runtime_error ("stand-in XRT: start of a run still running");
  xrt_standin_run_record rec {};
  rec.run_object = handle->id;
  size_t bytes;
  rec.opcode = (uint32_t) handle->scalar (0, &bytes);
  rec.word_count = handle->scalar (2, &rec.word_count_bytes);
  for (int i = 0; i < 6; i++) {
    bo_impl *b = handle->buffer (i);
    rec.bo[i] = b ? b->id : -1;
    rec.group[i] = b ? b->group : 0;
  }
  rec.syncs_before = s.syncs.size ();
  rec.state = ERT_CMD_STATE_RUNNING;
  s.runs.push_back (rec);
  handle->record = s.runs.size () - 1;
  handle->st = ERT_CMD_STATE_RUNNING;

  const int forced = s.next_run_state;
  s.next_run_state = 0;
  if (forced == ERT_CMD_STATE_TIMEOUT) {
    handle->hung = true;
    return;
  }
  if (forced) {
    handle->set_state ((ert_cmd_state) forced);
    return;
  }
  const bool ok = handle->execute (s.runs.back ());
  handle->set_state (ok ? ERT_CMD_STATE_COMPLETED : ERT_CMD_STATE_ERROR);
}

ert_cmd_state
run::wait (const std::chrono::milliseconds & timeout) const
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: wait on an empty run");
  standin_state &s = standin ();
  s.counts.waits++;
  if (handle->record < s.runs.size ())
    s.runs[handle->record].timeout_ms = (unsigned) timeout.count ();
  /* a hung run: XRT would block for ever without a timeout; the stand-in
   * says timeout either way */
  if (handle->hung)
    return ERT_CMD_STATE_TIMEOUT;
  return handle->st;
}

ert_cmd_state
run::state () const
{
  return handle ? handle->st : ERT_CMD_STATE_NEW;
}

ert_cmd_state
run::abort ()
{
  if (!handle)
    throw std::runtime_error ("stand-in XRT: abort of an empty run");
  standin ().counts.aborts++;
  if (handle->hung) {
    handle->hung = false;
    handle->set_state (ERT_CMD_STATE_ABORT);
  }
  return handle->st;
}

}  // namespace xrt

/* ------------------------------------------------------------------------ */
/* The C API of xrt-standin.h */

extern "C" const char *
xrt_standin_accel_dir (void)
{
  standin_state &s = standin ();
  if (s.accel_dir.empty ()) {
    const char *tmp = std::getenv ("TMPDIR");
    std::string templ = std::string (tmp && *tmp ? tmp : "/tmp")
        + "/xrt-standin-XXXXXX";
    std::vector<char> buf (templ.begin (), templ.end ());
    buf.push_back ('\0');
    if (mkdtemp (buf.data ())) {
      s.accel_dir = buf.data ();
      std::atexit (remove_accel_dir);
      make_accel_node (s.driver_loaded);
    } else
      s.accel_dir = "/nonexistent/xrt-standin";
  }
  return s.accel_dir.c_str ();
}

extern "C" void
xrt_standin_reset (void)
{
  standin_state &s = standin ();
  const unsigned live = s.counts.bos_live;
  s.counts = xrt_standin_counts ();
  s.counts.bos_live = live;
  s.bos.clear ();
  s.syncs.clear ();
  s.runs.clear ();
  s.next_run_state = 0;
  s.fail_open = false;
  s.fail_register = false;
  xrt_standin_set_driver_loaded (1);
}

extern "C" void
xrt_standin_get_counts (xrt_standin_counts * counts)
{
  *counts = standin ().counts;
}

extern "C" size_t
xrt_standin_n_bos (void)
{
  return standin ().bos.size ();
}

extern "C" int
xrt_standin_get_bo (size_t i, xrt_standin_bo_record * rec)
{
  if (i >= standin ().bos.size ())
    return -1;
  *rec = standin ().bos[i];
  return 0;
}

extern "C" size_t
xrt_standin_n_syncs (void)
{
  return standin ().syncs.size ();
}

extern "C" int
xrt_standin_get_sync (size_t i, xrt_standin_sync_record * rec)
{
  if (i >= standin ().syncs.size ())
    return -1;
  *rec = standin ().syncs[i];
  return 0;
}

extern "C" size_t
xrt_standin_n_runs (void)
{
  return standin ().runs.size ();
}

extern "C" int
xrt_standin_get_run (size_t i, xrt_standin_run_record * rec)
{
  if (i >= standin ().runs.size ())
    return -1;
  *rec = standin ().runs[i];
  return 0;
}

extern "C" void
xrt_standin_next_run_state (int st)
{
  standin ().next_run_state = st;
}

extern "C" void
xrt_standin_fail_device_open (const char *what)
{
  standin ().fail_open = what != nullptr;
  standin ().fail_open_what = what ? what : "";
}

extern "C" void
xrt_standin_fail_register (const char *what)
{
  standin ().fail_register = what != nullptr;
  standin ().fail_register_what = what ? what : "";
}

extern "C" void
xrt_standin_set_driver_loaded (int loaded)
{
  xrt_standin_accel_dir ();
  standin ().driver_loaded = loaded != 0;
  make_accel_node (loaded != 0);
}

extern "C" int
xrt_standin_write_program (const char *xclbin_path, const char *insts_path,
    const char *kernel_name, int M, int K, int N, int batch, size_t b_offset,
    int pad_words, int insts_extra_bytes)
{
  if (batch < 0 || b_offset > UINT32_MAX)
    return -1;
  FILE *f = std::fopen (xclbin_path, "w");
  if (!f)
    return -1;
  std::fprintf (f, "%s\nkernel %s\n", XRT_STANDIN_XCLBIN_MAGIC, kernel_name);
  if (std::fclose (f) != 0)
    return -1;
  f = std::fopen (insts_path, "wb");
  if (!f)
    return -1;
  std::vector<uint32_t> words = { XRT_STANDIN_INSTS_MAGIC, (uint32_t) M,
    (uint32_t) K, (uint32_t) N, (uint32_t) (batch > 0 ? batch : 1),
    (uint32_t) b_offset };
  for (int i = 0; i < pad_words; i++)
    words.push_back (0xa1100000u + (uint32_t) i);
  int ok = 1;
  for (uint32_t w : words) {
    const unsigned char b[4] = { (unsigned char) w,
      (unsigned char) (w >> 8), (unsigned char) (w >> 16),
      (unsigned char) (w >> 24) };
    ok = ok && std::fwrite (b, 1, 4, f) == 4;
  }
  for (int i = 0; i < insts_extra_bytes; i++)
    ok = ok && std::fputc (0, f) != EOF;
  return std::fclose (f) == 0 && ok ? 0 : -1;
}
