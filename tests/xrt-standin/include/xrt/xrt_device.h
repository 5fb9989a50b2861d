/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: xrt::device as XRT's xrt/xrt_device.h declares the part
 * the shim uses: open by index, register_xclbin(), get_info<name>(). */
#ifndef XRT_STANDIN_XRT_DEVICE_H
#define XRT_STANDIN_XRT_DEVICE_H

#include "xrt/deprecated/xrt.h"
#include "xrt/xrt_uuid.h"
#include "xrt/experimental/xrt_xclbin.h"

/* Not XRT: where the stand-in keeps its fake /dev/accel node; the shim is
 * built against the stand-in with NPU_XRT_ACCEL_DIR set to a call of it
 * (tests/meson.build). */
#ifdef __cplusplus
extern "C"
#endif
const char *xrt_standin_accel_dir (void);

#ifdef __cplusplus
#include <memory>
#include <string>

namespace xrt {

namespace info {

enum class device : unsigned int {
  bdf,
  interface_uuid,
  kdma,
  max_clock_frequency_mhz,
  m2m,
  name,
  nodma,
  offline,
};

template <typename ParamType, ParamType param>
struct param_traits;

template <>
struct param_traits<device, device::bdf>
{
  using return_type = std::string;
};

template <>
struct param_traits<device, device::name>
{
  using return_type = std::string;
};

}  // namespace info

class device_impl;
class device
{
public:
  device () = default;
  /* throws when there is no device @didx or it cannot be opened */
  explicit device (unsigned int didx);

  explicit device (int didx)
    : device (static_cast<unsigned int> (didx))
  {}

  template <info::device param>
  typename info::param_traits<info::device, param>::return_type
  get_info () const
  {
    return get_info_string (param);
  }

  uuid register_xclbin (const xrt::xclbin & xclbin);

  const std::shared_ptr<device_impl> &get_handle () const
  {
    return handle;
  }

  explicit operator bool () const
  {
    return handle != nullptr;
  }

private:
  std::string get_info_string (info::device param) const;

  std::shared_ptr<device_impl> handle;
};

}  // namespace xrt
#endif
#endif
