// evergreen/evergreen.h — the whole library in one include.
//
// Prefer the component headers (and Bazel targets) you actually use:
// evergreen/fiber, /loop, /sync, /futures, /io (and /io/tls.h, //io:tls), /patch.
// This header and the //:evergreen target are for programs that want everything.
#ifndef EVERGREEN_EVERGREEN_H_
#define EVERGREEN_EVERGREEN_H_

#include "evergreen/fiber/fiber.h"
#include "evergreen/futures/executor.h"
#include "evergreen/futures/future.h"
#include "evergreen/futures/loop_group_executor.h"
#include "evergreen/io/address.h"
#include "evergreen/io/balanced_tcp_server.h"
#include "evergreen/io/bind_options.h"
#include "evergreen/io/dns.h"
#include "evergreen/io/errno.h"
#include "evergreen/io/file.h"
#include "evergreen/io/pipe.h"
#include "evergreen/io/stream.h"
#include "evergreen/io/tcp.h"
#include "evergreen/io/tls.h"
#include "evergreen/io/tty.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/duration.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/local.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/report.h"
#include "evergreen/loop/shield.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/task_group.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "evergreen/sync/channel.h"
#include "evergreen/sync/condition.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "evergreen/sync/queue_closed.h"
#include "evergreen/sync/thread_safe_queue.h"

#endif  // EVERGREEN_EVERGREEN_H_
