/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: xrt::xclbin, read from a file (XRT:
 * xrt/experimental/xrt_xclbin.h, included by xrt/xrt_device.h).  The
 * stand-in's xclbin is a text file, tests/xrt-standin/xrt-standin.h. */
#ifndef XRT_STANDIN_EXPERIMENTAL_XRT_XCLBIN_H
#define XRT_STANDIN_EXPERIMENTAL_XRT_XCLBIN_H

#include "xrt/xrt_uuid.h"

#ifdef __cplusplus
#include <memory>
#include <string>
#include <string_view>

namespace xrt {

class xclbin_impl;
class xclbin
{
public:
  xclbin () = default;
  /* throws when the file is absent or not an xclbin */
  explicit xclbin (const std::string & filename);
  /* from the bytes of an xclbin in memory (XRT has it too, which makes a
   * const char * argument ambiguous there as it is here) */
  explicit xclbin (const std::string_view & data);

  uuid get_uuid () const;

  const std::shared_ptr<xclbin_impl> &get_handle () const
  {
    return handle;
  }

  explicit operator bool () const
  {
    return handle != nullptr;
  }

private:
  std::shared_ptr<xclbin_impl> handle;
};

}  // namespace xrt
#endif
#endif
