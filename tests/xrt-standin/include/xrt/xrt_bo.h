/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: xrt::bo (XRT: xrt/xrt_bo.h), a buffer with a host copy
 * (map()) and a device copy that only sync() moves data between. */
#ifndef XRT_STANDIN_XRT_BO_H
#define XRT_STANDIN_XRT_BO_H

#include <stddef.h>
#include <stdint.h>

#include "xrt/deprecated/xrt.h"
#include "xrt/detail/xrt_mem.h"

typedef uint32_t xrtMemoryGroup;

#ifdef __cplusplus
#include <memory>

namespace xrt {

using memory_group = xrtMemoryGroup;

class device;
class bo_impl;
class bo
{
public:
  enum class flags : uint32_t
  {
    normal      = 0,
    cacheable   = XRT_BO_FLAGS_CACHEABLE,
    device_only = XRT_BO_FLAGS_DEV_ONLY,
    host_only   = XRT_BO_FLAGS_HOST_ONLY,
    p2p         = XRT_BO_FLAGS_P2P,
    svm         = XRT_BO_FLAGS_SVM,
  };

  bo () = default;
  /* throws when @sz is 0 or the device cannot take it */
  bo (const xrt::device & device, size_t sz, bo::flags flags,
      memory_group grp);

  size_t size () const;
  memory_group get_memory_group () const;
  flags get_flags () const;

  /* throws when [offset, offset + sz) is not inside the buffer */
  void sync (xclBOSyncDirection dir, size_t sz, size_t offset);

  void sync (xclBOSyncDirection dir)
  {
    sync (dir, size (), 0);
  }

  void *map ();

  template <typename MapType>
  MapType map ()
  {
    return reinterpret_cast<MapType> (map ());
  }

  void write (const void *src, size_t size, size_t seek);

  void write (const void *src)
  {
    write (src, size (), 0);
  }

  bool operator == (const bo & rhs) const
  {
    return handle == rhs.handle;
  }

  explicit operator bool () const
  {
    return handle != nullptr;
  }

  const std::shared_ptr<bo_impl> &get_handle () const
  {
    return handle;
  }

private:
  std::shared_ptr<bo_impl> handle;
};

}  // namespace xrt
#endif
#endif
