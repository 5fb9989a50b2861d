/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Working memory and weights: 64-byte aligned blocks, the large ones mapped
 * straight from the kernel.
 *
 * Why not malloc for the large ones: glibc serves a block above its mmap
 * threshold (128 KiB at start) with mmap, but the first time such a block
 * is freed it raises the threshold to that block's size (up to 32 MiB).
 * From then on an encoder's 10 MB of activations and a model's converted
 * tensors come from the heap arena of whichever thread asked, and a
 * restarted pipeline's new streaming threads sit on other arenas: every
 * arena ends up keeping a freed copy (RSS +36 % from cycle 10 to 60 of
 * tests/check/pipelines/lifecycle.c; +2 % with the threshold fixed).
 * Mapping them ourselves gives the pages back at free, whatever thread
 * allocated or frees, and leaves the host application's allocator
 * settings alone (mallopt would change them for the whole process). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* Not under AddressSanitizer: it puts redzones around heap blocks only, so
 * there every block comes from the heap, where overflows are caught. */
#if defined(__SANITIZE_ADDRESS__)
#define KERNEL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KERNEL_ASAN 1
#endif
#endif
#if (defined(__unix__) || defined(__APPLE__)) && !defined(KERNEL_ASAN)
#include <sys/mman.h>
#define KERNEL_HAVE_MMAP 1
#endif

/* Blocks from this size on are mapped: glibc's initial threshold. */
#define KERNEL_MAP_FROM ((size_t) 128 << 10)

/* Each block starts with one 64-byte header (so the caller's pointer stays
 * 64-byte aligned) that says how it was obtained. */
#define HEADER 64
#define MAGIC_HEAP 0x6b68656170ULL      /* "kheap" */
#define MAGIC_MAP 0x6b6d6170ULL /* "kmap" */

typedef struct
{
  uint64_t magic;
  size_t bytes;                 /* the whole block, header included */
} block_header;

void *
kernel_alloc (size_t bytes)
{
  if (bytes > SIZE_MAX - HEADER)
    return NULL;
  const size_t total = bytes + HEADER;
  void *base = NULL;
  uint64_t magic = MAGIC_HEAP;
#ifdef KERNEL_HAVE_MMAP
  if (total >= KERNEL_MAP_FROM) {
    base = mmap (NULL, total, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
      return NULL;
    magic = MAGIC_MAP;
  }
#endif
  if (!base && posix_memalign (&base, 64, total) != 0)
    return NULL;
  block_header *h = base;
  h->magic = magic;
  h->bytes = total;
  return (char *) base + HEADER;
}

void *
kernel_alloc_zero (size_t bytes)
{
  void *p = kernel_alloc (bytes);
  if (!p)
    return NULL;
  block_header *h = (block_header *) ((char *) p - HEADER);
  if (h->magic == MAGIC_HEAP)   /* fresh mappings are zero already */
    memset (p, 0, bytes);
  return p;
}

void
kernel_free (void *p)
{
  if (!p)
    return;
  block_header *h = (block_header *) ((char *) p - HEADER);
#ifdef KERNEL_HAVE_MMAP
  if (h->magic == MAGIC_MAP) {
    munmap (h, h->bytes);
    return;
  }
#endif
  free (h);
}
