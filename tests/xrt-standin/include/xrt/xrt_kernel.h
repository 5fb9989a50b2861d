/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: xrt::kernel and xrt::run (XRT: xrt/xrt_kernel.h).  A run
 * is made once from a kernel and started again and again; its arguments
 * are set by index as XRT's set_arg() does (scalars by their bytes,
 * buffers by handle). */
#ifndef XRT_STANDIN_XRT_KERNEL_H
#define XRT_STANDIN_XRT_KERNEL_H

#include "xrt/xrt_bo.h"
#include "xrt/xrt_device.h"
#include "xrt/xrt_uuid.h"
#include "xrt/xrt_hw_context.h"
#include "xrt/detail/ert.h"

#ifdef __cplusplus
#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace xrt {

class kernel;
class run_impl;
class run
{
public:
  run () = default;
  explicit run (const kernel & krnl);

  void start ();

  /* the command state, ERT_CMD_STATE_TIMEOUT when @timeout (0: none)
   * passed first */
  ert_cmd_state wait (const std::chrono::milliseconds & timeout =
      std::chrono::milliseconds {0}) const;

  ert_cmd_state wait (unsigned int timeout_ms) const
  {
    return wait (timeout_ms * std::chrono::milliseconds {1});
  }

  ert_cmd_state state () const;
  ert_cmd_state abort ();

  template <typename ArgType>
  void set_arg (int index, ArgType && arg)
  {
    set_arg_at_index (index, &arg, sizeof (arg));
  }

  void set_arg (int index, xrt::bo & boh)
  {
    set_arg_at_index (index, boh);
  }

  void set_arg (int index, const xrt::bo & boh)
  {
    set_arg_at_index (index, boh);
  }

  void set_arg (int index, xrt::bo && boh)
  {
    set_arg_at_index (index, boh);
  }

  explicit operator bool () const
  {
    return handle != nullptr;
  }

private:
  void set_arg_at_index (int index, const void *value, size_t bytes);
  void set_arg_at_index (int index, const xrt::bo & boh);

  std::shared_ptr<run_impl> handle;
};

class kernel_impl;
class kernel
{
public:
  kernel () = default;
  /* throws when the context's xclbin has no kernel @name */
  kernel (const xrt::hw_context & ctx, const std::string & name);

  /* the memory group a buffer for argument @argno is allocated in */
  int group_id (int argno) const;

  const std::shared_ptr<kernel_impl> &get_handle () const
  {
    return handle;
  }

  explicit operator bool () const
  {
    return handle != nullptr;
  }

private:
  std::shared_ptr<kernel_impl> handle;
};

}  // namespace xrt
#endif
#endif
