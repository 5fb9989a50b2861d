/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npu_device_ops_for (npu-load.h) */
#include "config.h"
#include "npu-load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
npu_xrt_module_path (void)
{
  const char *env = getenv ("WHISPER_NPU_XRT_MODULE");
  return env && *env ? env : NPU_MODULE_DIR "/libwhisper-npu-xrt.so";
}

static const npu_device_ops *
load_xrt (void **module, npu_error * error)
{
  const char *path = npu_xrt_module_path ();
  void *handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    error->status = NPU_ERROR_NO_DEVICE;
    snprintf (error->message, sizeof error->message, "cannot load the XRT "
        "module (%s): this build of gst-whisper-npu has no XRT support, or "
        "XRT's libraries are not installed (docs/npu.md)", dlerror ());
    return NULL;
  }
  typedef const npu_device_ops *(*ops_fn) (void);
  ops_fn fn = (ops_fn) dlsym (handle, NPU_DEVICE_OPS_SYMBOL);
  const npu_device_ops *ops = fn ? fn () : NULL;
  if (!ops || ops->abi_version != NPU_DEVICE_ABI_VERSION) {
    error->status = NPU_ERROR_DRIVER;
    snprintf (error->message, sizeof error->message, "%s is not a device "
        "module of this version of gst-whisper-npu (%s; ABI %u, this is %u)",
        path, fn ? "wrong ABI version" : "no " NPU_DEVICE_OPS_SYMBOL,
        ops ? ops->abi_version : 0u, (unsigned) NPU_DEVICE_ABI_VERSION);
    dlclose (handle);
    return NULL;
  }
  *module = handle;
  return ops;
}

const npu_device_ops *
npu_device_ops_for (const char *spec, void **module, const char **options,
    npu_error * error)
{
  npu_error scratch;
  if (!error)
    error = &scratch;
  *module = NULL;
  *options = NULL;
  if (!spec)
    spec = "";
  const char *colon = strchr (spec, ':');
  const size_t name_len = colon ? (size_t) (colon - spec) : strlen (spec);
  if (colon && colon[1])
    *options = colon + 1;
  if (name_len == 0 || (name_len == 3 && strncmp (spec, "xrt", 3) == 0))
    return load_xrt (module, error);
  if (name_len == 8 && strncmp (spec, "emulated", 8) == 0)
    return npu_emulated_device_ops ();
  error->status = NPU_ERROR_BAD_ARGUMENT;
  snprintf (error->message, sizeof error->message, "unknown NPU device "
      "\"%.*s\" (WHISPER_NPU_DEVICE: xrt[:INDEX] or emulated[:OPTIONS])",
      (int) name_len, spec);
  return NULL;
}

void
npu_unload_module (void *module)
{
  if (module)
    dlclose (module);
}
