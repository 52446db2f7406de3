// evergreen/patch/patch.h
//
// Patching: makes unmodified blocking C and C++ code cooperative. After
// patch(), a blocking libc call made inside a task - by the program or by any
// library linked into it, such as libcurl's easy API or hiredis - suspends only
// that task, and the loop runs the others meanwhile.
//
//   evergreen::patch::patch();                 // or patch({.socket = true})
//   for (auto& url : urls) {
//     evergreen::spawn([url] { fetch_with_libcurl(url); });   // runs concurrently
//   }
//
// C++ has no modules to replace, so patching means interposing the C
// library's functions: //patch defines read, recv, poll, sleep, getaddrinfo...
// with libc's names and signatures, and reaches the real ones through
// dlsym(RTLD_NEXT, ...) (exposed below as evergreen::patch::original).
//
// Guarantees:
// - Before patch(), and for modules not patched, every interposed function is
//   a pure pass-through to libc.
// - Outside a task (the thread's main context, loop callbacks, threads
//   without a loop) every call behaves as libc's, errno included, also on an
//   fd that a task made non-blocking underneath (see below): a blocking call
//   there still blocks the thread, honouring SO_RCVTIMEO/SO_SNDTIMEO.
// - Inside a task, a call that would block parks only the task until the fd
//   is ready, the socket's SO_RCVTIMEO/SO_SNDTIMEO passes (the call then fails
//   with EAGAIN, or EINPROGRESS for connect, as libc's would) or the sleep is
//   over. Calls that would not block go straight to libc.
// - Sockets and pipes are made cooperative as above. Regular files are too,
//   in their own way (they never report EAGAIN): in a task, read, write,
//   pread and pwrite on a regular file run on io's file pool (the thread pool
//   behind io::File) while only the task waits. Whether an fd is a regular
//   file is found once (fstat) and remembered until close()/dup2() over it.
//   Other fds (ttys, eventfds, devices...) always go straight to libc.
// - The first time a task uses a blocking socket or pipe, its file description
//   is made non-blocking underneath, while the program keeps seeing the flag it
//   set: fcntl(F_GETFL) and ioctl(FIONBIO) report and change a per-fd
//   user-visible O_NONBLOCK, and the calls keep their blocking semantics (a
//   blocking send() writes everything; MSG_WAITALL waits for everything).
//   A file description shared with another process sees O_NONBLOCK too.
// - An interposed call never throws: exceptions cannot cross C code. When a
//   kill() or a Timeout is delivered to a task waiting inside one, the call
//   returns at once with an error the C library treats as a failure, and the
//   exception stays pending: it is raised at the task's next evergreen
//   suspension point (evergreen::sleep, a lock, a queue, join...), even if
//   the Timeout that sent it has been cancelled by then (the library gave up
//   because of it: `{ Timeout t(5s); curl_easy_perform(h); }` raises it at the
//   next evergreen call). Socket calls and poll/select/epoll_wait fail with
//   ETIMEDOUT for a Timeout (which libraries report as their own timeout) and
//   ECANCELED for a kill - not EINTR, which libraries retry - and keep failing
//   whenever they would wait while the exception is pending, so a library
//   such as libcurl or hiredis gives up and returns promptly. (libcurl's easy
//   API reports any failed poll() as CURLE_BAD_FUNCTION_ARGUMENT: look at the
//   exception, not at curl's code.) The sleeps return early as if interrupted by a
//   signal (EINTR, with the time left), once per delivery: a sleep retried on
//   EINTR then runs normally rather than spinning. A call on a regular file
//   is not cut short: it completes and returns its result, and the exception
//   is left pending in the same way.
// - close() (or dup2() over it) of an fd that tasks of this thread wait on
//   wakes them; their call fails with EBADF. Every other watcher of the fd on
//   this thread's loop lets go of it too (EventLoop::add_reader/add_writer
//   callbacks on it are removed), so a new file that gets the same number is
//   watched afresh.
// - evergreen's own calls are unaffected: the loop runs outside tasks, and
//   io's sockets are non-blocking by the program's own choice.
// - Patching is process-wide and one-way (there is no unpatch: fds already
//   made non-blocking underneath depend on it).
//
// Limits: select() with nfds above FD_SETSIZE, and fds at or above 4M, are
// left to libc (they block the thread). Outside tasks, a signal interrupting
// the wait of a blocking call on a task's socket makes it fail with EINTR even
// under SA_RESTART. A blocking call made in a signal handler that interrupted
// a task must not need to wait.
//
// Linking: the interposed definitions must be what the dynamic linker finds
// first for every shared object. Depending on //patch arranges it
// (alwayslink, and the symbols exported from the executable with
// -Wl,--export-dynamic-symbol); patch() checks it and throws if not. Only
// //patch interposes: //:evergreen and //patch:cooperative (lib.h and
// patch() without the interposers) leave libc alone for every library in the
// process, and patch() there throws std::runtime_error naming //patch.
#ifndef EVERGREEN_PATCH_PATCH_H_
#define EVERGREEN_PATCH_PATCH_H_

#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <string_view>

namespace evergreen::patch {

// Which families of calls patch() makes cooperative.
//   socket: socket, connect, accept, accept4, read, write, readv, writev,
//           recv, send, recvfrom, sendto, recvmsg, sendmsg, close, plus the
//           bookkeeping calls fcntl, ioctl(FIONBIO), setsockopt, dup*; and
//           on regular files read, write, pread, pwrite (and pread64,
//           pwrite64)
//   select: select, poll, epoll_wait (on an epoll fd the program owns)
//   time:   sleep, usleep, nanosleep, and clock_gettime and time (which only
//           differ from libc's under testing::run_with_virtual_time)
//   dns:    getaddrinfo, gethostbyname (resolved with c-ares, evergreen::io)
struct Modules {
  bool socket = false;
  bool select = false;
  bool time = false;
  bool dns = false;

  static Modules all() { return Modules{true, true, true, true}; }
};

// patch()
//
// Makes the calls of the chosen modules cooperative inside tasks, from now on
// and in every thread. Calling it again adds modules (what is patched stays
// patched). Thread-safe; does not block. Throws std::runtime_error if the
// interposed functions are not the ones shared libraries would call (the
// program was linked without //patch's link flags), naming the function.
void patch(Modules modules = Modules::all());

// is_patched()
//
// Whether `module` ("socket", "select", "time" or "dns") is patched. Throws
// std::invalid_argument for any other name.
bool is_patched(std::string_view module);

// The unpatched calls: libc's own functions (or, under a sanitizer, its
// interceptors), whatever patch() did. They block the thread as usual.
namespace original {

int socket(int domain, int type, int protocol);
int connect(int fd, const sockaddr* address, socklen_t length);
int accept(int fd, sockaddr* address, socklen_t* length);
int accept4(int fd, sockaddr* address, socklen_t* length, int flags);
ssize_t read(int fd, void* buffer, size_t count);
ssize_t write(int fd, const void* buffer, size_t count);
ssize_t readv(int fd, const iovec* vector, int count);
ssize_t writev(int fd, const iovec* vector, int count);
ssize_t pread(int fd, void* buffer, size_t count, off_t offset);
ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset);
ssize_t recv(int fd, void* buffer, size_t length, int flags);
ssize_t send(int fd, const void* buffer, size_t length, int flags);
ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length);
ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
               socklen_t address_length);
ssize_t recvmsg(int fd, msghdr* message, int flags);
ssize_t sendmsg(int fd, const msghdr* message, int flags);
int close(int fd);
// fcntl and ioctl take one optional argument, an int or a pointer.
int fcntl(int fd, int command, ...);
int ioctl(int fd, unsigned long request, ...);
int setsockopt(int fd, int level, int name, const void* value, socklen_t length);
int dup(int fd);
int dup2(int fd, int target);
int dup3(int fd, int target, int flags);

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout);
int poll(pollfd* fds, nfds_t count, int timeout_ms);
int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms);

unsigned int sleep(unsigned int seconds);
int usleep(useconds_t microseconds);
int nanosleep(const timespec* duration, timespec* remaining);
int clock_gettime(clockid_t clock, timespec* now);
time_t time(time_t* now);

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result);
hostent* gethostbyname(const char* name);

}  // namespace original
}  // namespace evergreen::patch

#endif  // EVERGREEN_PATCH_PATCH_H_
