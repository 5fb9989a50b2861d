/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: xrt::hw_context (XRT: xrt/xrt_hw_context.h), made from a
 * device and the uuid of an xclbin registered on it. */
#ifndef XRT_STANDIN_XRT_HW_CONTEXT_H
#define XRT_STANDIN_XRT_HW_CONTEXT_H

#include "xrt/xrt_device.h"
#include "xrt/xrt_uuid.h"

#ifdef __cplusplus
#include <memory>

namespace xrt {

class hw_context_impl;
class hw_context
{
public:
  enum class access_mode : uint8_t {
    exclusive = 0,
    shared = 1
  };

  hw_context () = default;
  /* throws when @xclbin_id is not registered on @device */
  hw_context (const xrt::device & device, const xrt::uuid & xclbin_id,
      access_mode mode);

  hw_context (const xrt::device & device, const xrt::uuid & xclbin_id)
    : hw_context (device, xclbin_id, access_mode::shared)
  {}

  xrt::device get_device () const;
  xrt::uuid get_xclbin_uuid () const;

  const std::shared_ptr<hw_context_impl> &get_handle () const
  {
    return handle;
  }

  explicit operator bool () const
  {
    return handle != nullptr;
  }

private:
  std::shared_ptr<hw_context_impl> handle;
};

}  // namespace xrt
#else
# error xrt_hw_context.h is C++ only
#endif
#endif
