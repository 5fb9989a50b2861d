/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in XRT: the command states of XRT's xrt/detail/ert.h (same
 * values), which xrt::run::wait() and state() return. */
#ifndef XRT_STANDIN_DETAIL_ERT_H
#define XRT_STANDIN_DETAIL_ERT_H

enum ert_cmd_state {
  ERT_CMD_STATE_NEW = 1,
  ERT_CMD_STATE_QUEUED = 2,
  ERT_CMD_STATE_RUNNING = 3,
  ERT_CMD_STATE_COMPLETED = 4,
  ERT_CMD_STATE_ERROR = 5,
  ERT_CMD_STATE_ABORT = 6,
  ERT_CMD_STATE_SUBMITTED = 7,
  ERT_CMD_STATE_TIMEOUT = 8,
  ERT_CMD_STATE_NORESPONSE = 9,
  ERT_CMD_STATE_SKERROR = 10,
  ERT_CMD_STATE_SKCRASHED = 11,
  ERT_CMD_STATE_MAX,
};

#endif
