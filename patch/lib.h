// evergreen/patch/lib.h
//
// The cooperative versions of libc's blocking calls, callable explicitly
// without patching anything (the seed's evergreen.lib modules):
//
//   int fd = evergreen::lib::socket::socket(AF_INET, SOCK_STREAM, 0);
//   evergreen::lib::socket::connect(fd, address, length);   // parks the task
//   evergreen::lib::time::sleep(1);                          // parks the task
//
// Each function has libc's name, signature and semantics (results and errno),
// and is exactly what the corresponding interposed call does once patched
// (evergreen/patch/patch.h states the guarantees): inside a task a call that
// would block parks only the task; outside a task it behaves as libc's. None
// throws. A kill() or Timeout delivered while a task waits in one of them makes
// the call fail - in the socket and select calls with ETIMEDOUT for a Timeout
// and ECANCELED for a kill, in the sleeps with EINTR - and stays pending for
// the task's next evergreen suspension point.
#ifndef EVERGREEN_PATCH_LIB_H_
#define EVERGREEN_PATCH_LIB_H_

#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

namespace evergreen::lib {

// Sockets and pipes. A blocking socket or pipe used in a task is made
// non-blocking underneath while these calls (and fcntl/ioctl) keep the
// blocking behaviour the program asked for; SO_RCVTIMEO and SO_SNDTIMEO bound
// the waits. Calls on other kinds of fd go straight to libc.
namespace socket {

int socket(int domain, int type, int protocol);
// Blocks until connected (or SO_SNDTIMEO passes: EINPROGRESS).
int connect(int fd, const sockaddr* address, socklen_t length);
// Block until a connection arrives (or SO_RCVTIMEO passes: EAGAIN).
int accept(int fd, sockaddr* address, socklen_t* length);
int accept4(int fd, sockaddr* address, socklen_t* length, int flags);
// Block until some data (all of it with MSG_WAITALL) or end of file.
ssize_t read(int fd, void* buffer, size_t count);
ssize_t readv(int fd, const iovec* vector, int count);
ssize_t recv(int fd, void* buffer, size_t length, int flags);
ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length);
ssize_t recvmsg(int fd, msghdr* message, int flags);
// Block until everything is written (a blocking fd's semantics).
ssize_t write(int fd, const void* buffer, size_t count);
ssize_t writev(int fd, const iovec* vector, int count);
ssize_t send(int fd, const void* buffer, size_t length, int flags);
ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
               socklen_t address_length);
ssize_t sendmsg(int fd, const msghdr* message, int flags);
// read, write, pread and pwrite on a regular file, in a task, run on io's
// file pool while only the task waits (outside tasks: libc's call as is).
ssize_t pread(int fd, void* buffer, size_t count, off_t offset);
ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset);
// Wakes tasks of this thread waiting on `fd` (their call fails with EBADF),
// forgets its state, closes it.
int close(int fd);
// F_GETFL/F_SETFL see and set the user-visible O_NONBLOCK; F_DUPFD* copy the
// fd's state. The optional argument is an int or a pointer.
int fcntl(int fd, int command, ...);
// FIONBIO sets the user-visible non-blocking flag.
int ioctl(int fd, unsigned long request, ...);
// SO_RCVTIMEO/SO_SNDTIMEO are remembered to bound the waits above.
int setsockopt(int fd, int level, int name, const void* value, socklen_t length);
int dup(int fd);
int dup2(int fd, int target);
int dup3(int fd, int target, int flags);

}  // namespace socket

// Readiness waits: in a task they park until an fd is ready or the timeout
// passes; the result is always what the real call reports for the fds at
// that moment.
namespace select {

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout);
int poll(pollfd* fds, nfds_t count, int timeout_ms);
// On an epoll fd the program owns (not an event loop's).
int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms);

}  // namespace select

// Sleeps: in a task they park it on a loop timer; zero yields to the loop.
namespace time {

unsigned int sleep(unsigned int seconds);
int usleep(useconds_t microseconds);
int nanosleep(const timespec* duration, timespec* remaining);

// Clocks: on a thread running testing::run_with_virtual_time() (its tasks and
// the body), clock_gettime(CLOCK_MONOTONIC) reads the loop's virtual clock
// and time() the real wall-clock time at its start plus the virtual time
// elapsed; other clocks, and every other thread, get libc's.
int clock_gettime(clockid_t clock, timespec* now);
time_t time(time_t* now);

}  // namespace time

// Name resolution: in a task, host names are resolved with c-ares through
// evergreen::io (honouring /etc/hosts and /etc/resolv.conf) while the task is
// parked; numeric addresses and calls outside tasks go to libc. Results are
// libc's own structures: free getaddrinfo()'s with freeaddrinfo().
namespace dns {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result);
// Like libc's, returns a per-thread static result (overwritten by the next
// call) and sets h_errno on failure.
hostent* gethostbyname(const char* name);

}  // namespace dns
}  // namespace evergreen::lib

#endif  // EVERGREEN_PATCH_LIB_H_
