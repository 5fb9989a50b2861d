/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which device: the XRT module (dlopen'd only when an encoder opens the
 * NPU, never at plugin registration) or the emulated device. */
#ifndef NPU_LOAD_H
#define NPU_LOAD_H

#include "npu-device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device that @spec names ($WHISPER_NPU_DEVICE):
 *   NULL, "" or "xrt[:INDEX]"   the XRT shim module: $WHISPER_NPU_XRT_MODULE
 *                               or the installed libwhisper-npu-xrt.so
 *   "emulated[:OPTIONS]"        the emulated device (npu-emu.h)
 * Sets *module to the module's handle (NULL for the emulated device; give
 * it to npu_unload_module after closing the device) and *options to the
 * part after the colon (NULL if none; points into @spec).  NULL + error
 * naming the module and the reason when it cannot be had. */
const npu_device_ops *npu_device_ops_for (const char *spec, void **module,
    const char **options, npu_error * error);
void npu_unload_module (void *module);

/* Where the installed XRT module is looked for */
const char *npu_xrt_module_path (void);

#ifdef __cplusplus
}
#endif
#endif
