/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: xrt::uuid, the id of an xclbin (XRT's wraps libuuid; this
 * one is 16 bytes compared as bytes, which is all the shim needs). */
#ifndef XRT_STANDIN_XRT_UUID_H
#define XRT_STANDIN_XRT_UUID_H

#ifdef __cplusplus
#include <cstring>
#include <string>

namespace xrt {

class uuid
{
  unsigned char m_uuid[16];
public:
  uuid ()
  {
    std::memset (m_uuid, 0, sizeof m_uuid);
  }

  explicit uuid (const unsigned char *bytes)
  {
    std::memcpy (m_uuid, bytes, sizeof m_uuid);
  }

  const unsigned char *get () const
  {
    return m_uuid;
  }

  std::string to_string () const;

  explicit operator bool () const
  {
    for (unsigned char c : m_uuid)
      if (c)
        return true;
    return false;
  }

  bool operator == (const uuid & rhs) const
  {
    return std::memcmp (m_uuid, rhs.m_uuid, sizeof m_uuid) == 0;
  }

  bool operator != (const uuid & rhs) const
  {
    return !(*this == rhs);
  }

  bool operator < (const uuid & rhs) const
  {
    return std::memcmp (m_uuid, rhs.m_uuid, sizeof m_uuid) < 0;
  }
};

}  // namespace xrt
#endif
#endif
