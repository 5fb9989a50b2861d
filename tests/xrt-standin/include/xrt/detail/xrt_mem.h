/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: the buffer flag bits of XRT's xrt/detail/xrt_mem.h (the
 * same values, so a log of flags reads as on XRT). */
#ifndef XRT_STANDIN_DETAIL_XRT_MEM_H
#define XRT_STANDIN_DETAIL_XRT_MEM_H

#define XCL_BO_FLAGS_NONE       (0)
#define XCL_BO_FLAGS_CACHEABLE  (1U << 24)
#define XCL_BO_FLAGS_KERNBUF    (1U << 25)
#define XCL_BO_FLAGS_SVM        (1U << 27)
#define XCL_BO_FLAGS_DEV_ONLY   (1U << 28)
#define XCL_BO_FLAGS_HOST_ONLY  (1U << 29)
#define XCL_BO_FLAGS_P2P        (1U << 30)

#define XRT_BO_FLAGS_NONE       XCL_BO_FLAGS_NONE
#define XRT_BO_FLAGS_CACHEABLE  XCL_BO_FLAGS_CACHEABLE
#define XRT_BO_FLAGS_DEV_ONLY   XCL_BO_FLAGS_DEV_ONLY
#define XRT_BO_FLAGS_HOST_ONLY  XCL_BO_FLAGS_HOST_ONLY
#define XRT_BO_FLAGS_P2P        XCL_BO_FLAGS_P2P
#define XRT_BO_FLAGS_SVM        XCL_BO_FLAGS_SVM

#endif
