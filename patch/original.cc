// evergreen::patch::original: the functions //patch interposes, as the C
// library (or a sanitizer in front of it) defines them.
#include <unistd.h>

#include <cstdarg>

#include "evergreen/patch/internal/symbols.h"
#include "evergreen/patch/patch.h"

namespace evergreen::patch::original {
namespace {

using patch_internal::NextSymbol;

// One cached lookup per function, typed after libc's declaration (spelled
// out: decltype(&::read) would carry attributes a template argument drops);
// constinit: usable before any static constructor has run.
#define EVERGREEN_NEXT(name, result, ...) \
  constinit NextSymbol<result (*)(__VA_ARGS__)> next_##name(#name)

EVERGREEN_NEXT(socket, int, int, int, int);
EVERGREEN_NEXT(connect, int, int, const sockaddr*, socklen_t);
EVERGREEN_NEXT(accept, int, int, sockaddr*, socklen_t*);
EVERGREEN_NEXT(accept4, int, int, sockaddr*, socklen_t*, int);
EVERGREEN_NEXT(read, ssize_t, int, void*, size_t);
EVERGREEN_NEXT(write, ssize_t, int, const void*, size_t);
EVERGREEN_NEXT(readv, ssize_t, int, const iovec*, int);
EVERGREEN_NEXT(writev, ssize_t, int, const iovec*, int);
EVERGREEN_NEXT(pread, ssize_t, int, void*, size_t, off_t);
EVERGREEN_NEXT(pwrite, ssize_t, int, const void*, size_t, off_t);
EVERGREEN_NEXT(recv, ssize_t, int, void*, size_t, int);
EVERGREEN_NEXT(send, ssize_t, int, const void*, size_t, int);
EVERGREEN_NEXT(recvfrom, ssize_t, int, void*, size_t, int, sockaddr*, socklen_t*);
EVERGREEN_NEXT(sendto, ssize_t, int, const void*, size_t, int, const sockaddr*, socklen_t);
EVERGREEN_NEXT(recvmsg, ssize_t, int, msghdr*, int);
EVERGREEN_NEXT(sendmsg, ssize_t, int, const msghdr*, int);
EVERGREEN_NEXT(close, int, int);
EVERGREEN_NEXT(fcntl, int, int, int, ...);
EVERGREEN_NEXT(ioctl, int, int, unsigned long, ...);
EVERGREEN_NEXT(setsockopt, int, int, int, int, const void*, socklen_t);
EVERGREEN_NEXT(dup, int, int);
EVERGREEN_NEXT(dup2, int, int, int);
EVERGREEN_NEXT(dup3, int, int, int, int);
EVERGREEN_NEXT(select, int, int, fd_set*, fd_set*, fd_set*, timeval*);
EVERGREEN_NEXT(poll, int, pollfd*, nfds_t, int);
EVERGREEN_NEXT(epoll_wait, int, int, epoll_event*, int, int);
EVERGREEN_NEXT(sleep, unsigned int, unsigned int);
EVERGREEN_NEXT(usleep, int, useconds_t);
EVERGREEN_NEXT(nanosleep, int, const timespec*, timespec*);
EVERGREEN_NEXT(clock_gettime, int, clockid_t, timespec*);
EVERGREEN_NEXT(time, time_t, time_t*);
EVERGREEN_NEXT(getaddrinfo, int, const char*, const char*, const addrinfo*, addrinfo**);
EVERGREEN_NEXT(gethostbyname, hostent*, const char*);

#undef EVERGREEN_NEXT

// Resolves every original when the program (or the shared object holding
// //patch) is loaded, before main(). A lazy first lookup is not safe
// everywhere an interposed function can run: dlsym takes the loader's lock and
// may allocate, so it must not happen first inside a signal handler or inside
// a sanitizer's runtime (TSan's symbolizer calls fcntl()). A static
// constructor of another library that runs before this one still gets the
// lazy lookup in get(). Priority 101, the first available to programs, so
// that ordinary static constructors already find everything resolved.
__attribute__((constructor(101))) void resolve_every_original() {
  next_socket.get();
  next_connect.get();
  next_accept.get();
  next_accept4.get();
  next_read.get();
  next_write.get();
  next_readv.get();
  next_writev.get();
  next_pread.get();
  next_pwrite.get();
  next_recv.get();
  next_send.get();
  next_recvfrom.get();
  next_sendto.get();
  next_recvmsg.get();
  next_sendmsg.get();
  next_close.get();
  next_fcntl.get();
  next_ioctl.get();
  next_setsockopt.get();
  next_dup.get();
  next_dup2.get();
  next_dup3.get();
  next_select.get();
  next_poll.get();
  next_epoll_wait.get();
  next_sleep.get();
  next_usleep.get();
  next_nanosleep.get();
  next_clock_gettime.get();
  next_time.get();
  next_getaddrinfo.get();
  next_gethostbyname.get();
}

}  // namespace

int socket(int domain, int type, int protocol) { return next_socket.get()(domain, type, protocol); }
int connect(int fd, const sockaddr* address, socklen_t length) {
  return next_connect.get()(fd, address, length);
}
int accept(int fd, sockaddr* address, socklen_t* length) {
  return next_accept.get()(fd, address, length);
}
int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  return next_accept4.get()(fd, address, length, flags);
}
ssize_t read(int fd, void* buffer, size_t count) { return next_read.get()(fd, buffer, count); }
ssize_t write(int fd, const void* buffer, size_t count) {
  return next_write.get()(fd, buffer, count);
}
ssize_t readv(int fd, const iovec* vector, int count) {
  return next_readv.get()(fd, vector, count);
}
ssize_t writev(int fd, const iovec* vector, int count) {
  return next_writev.get()(fd, vector, count);
}
ssize_t pread(int fd, void* buffer, size_t count, off_t offset) {
  return next_pread.get()(fd, buffer, count, offset);
}
ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  return next_pwrite.get()(fd, buffer, count, offset);
}
ssize_t recv(int fd, void* buffer, size_t length, int flags) {
  return next_recv.get()(fd, buffer, length, flags);
}
ssize_t send(int fd, const void* buffer, size_t length, int flags) {
  return next_send.get()(fd, buffer, length, flags);
}
ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length) {
  return next_recvfrom.get()(fd, buffer, length, flags, address, address_length);
}
ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
               socklen_t address_length) {
  return next_sendto.get()(fd, buffer, length, flags, address, address_length);
}
ssize_t recvmsg(int fd, msghdr* message, int flags) {
  return next_recvmsg.get()(fd, message, flags);
}
ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  return next_sendmsg.get()(fd, message, flags);
}
int close(int fd) { return next_close.get()(fd); }

// Every fcntl and ioctl command takes at most one argument, an int or a
// pointer; passing it on as a pointer-sized value is how libc reads it too.
int fcntl(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  return next_fcntl.get()(fd, command, argument);
}
int ioctl(int fd, unsigned long request, ...) {
  va_list arguments;
  va_start(arguments, request);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  return next_ioctl.get()(fd, request, argument);
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t length) {
  return next_setsockopt.get()(fd, level, name, value, length);
}
int dup(int fd) { return next_dup.get()(fd); }
int dup2(int fd, int target) { return next_dup2.get()(fd, target); }
int dup3(int fd, int target, int flags) { return next_dup3.get()(fd, target, flags); }

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout) {
  return next_select.get()(nfds, readfds, writefds, exceptfds, timeout);
}
int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  return next_poll.get()(fds, count, timeout_ms);
}
int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) {
  return next_epoll_wait.get()(epfd, events, max_events, timeout_ms);
}

unsigned int sleep(unsigned int seconds) { return next_sleep.get()(seconds); }
int usleep(useconds_t microseconds) { return next_usleep.get()(microseconds); }
int nanosleep(const timespec* duration, timespec* remaining) {
  return next_nanosleep.get()(duration, remaining);
}
int clock_gettime(clockid_t clock, timespec* now) { return next_clock_gettime.get()(clock, now); }
time_t time(time_t* now) { return next_time.get()(now); }

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
  return next_getaddrinfo.get()(node, service, hints, result);
}
hostent* gethostbyname(const char* name) { return next_gethostbyname.get()(name); }

}  // namespace evergreen::patch::original
