/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npu_status_name (npu-device.h) */
#include "npu-device.h"

const char *
npu_status_name (npu_status status)
{
  switch (status) {
    case NPU_OK:
      return "ok";
    case NPU_ERROR_NO_DEVICE:
      return "no device";
    case NPU_ERROR_DRIVER:
      return "driver mismatch";
    case NPU_ERROR_MEMLOCK:
      return "memlock limit too low";
    case NPU_ERROR_MISSING_FILE:
      return "missing file";
    case NPU_ERROR_BAD_PROGRAM:
      return "bad program";
    case NPU_ERROR_BAD_SHAPE:
      return "unsupported shape";
    case NPU_ERROR_BAD_ARGUMENT:
      return "bad argument";
    case NPU_ERROR_NO_MEMORY:
      return "out of memory";
    case NPU_ERROR_TIMEOUT:
      return "timeout";
    case NPU_ERROR_RUN:
      return "run failed";
  }
  return "unknown status";
}
