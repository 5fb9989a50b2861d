/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT (tests/xrt-standin): the C-level names of XRT's
 * xrt/deprecated/xrt.h that the shim uses, declared as XRT declares them
 * (the sync directions and the BO flag bits), nothing else. */
#ifndef XRT_STANDIN_DEPRECATED_XRT_H
#define XRT_STANDIN_DEPRECATED_XRT_H

#include "xrt/detail/xrt_mem.h"

typedef void *xclDeviceHandle;

enum xclBOSyncDirection {
  XCL_BO_SYNC_BO_TO_DEVICE = 0,
  XCL_BO_SYNC_BO_FROM_DEVICE,
  XCL_BO_SYNC_BO_GMIO_TO_AIE,
  XCL_BO_SYNC_BO_AIE_TO_GMIO,
};

#endif
