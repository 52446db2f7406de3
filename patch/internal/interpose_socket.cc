// The interposed socket and pipe calls: libc's names and signatures, defined
// in the program so that every caller - the program, evergreen itself, any
// shared library - reaches them first. Until patch() switches the socket
// module on, each one is a plain call of the original.
//
// The fortified variants (__read_chk...) that code built with
// _FORTIFY_SOURCE calls instead are interposed too, checking the buffer size
// as libc does.

// This file defines the fortified entry points itself, so it must not see
// the inline wrappers that _FORTIFY_SOURCE would declare.
#undef _FORTIFY_SOURCE

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdarg>

#include "evergreen/patch/internal/modules.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"

static_assert(sizeof(off_t) == sizeof(off64_t), "pread64/pwrite64 forward to pread/pwrite");

namespace evergreen::patch_internal {
const bool interposers_linked = true;
}  // namespace evergreen::patch_internal

namespace {

namespace original = evergreen::patch::original;
namespace cooperative = evergreen::lib::socket;

bool on() { return evergreen::patch_internal::patched(evergreen::patch_internal::Module::kSocket); }

void* optional_argument(va_list arguments) { return va_arg(arguments, void*); }

}  // namespace

extern "C" {

[[noreturn]] void __chk_fail(void);

int socket(int domain, int type, int protocol) noexcept {
  return on() ? cooperative::socket(domain, type, protocol)
              : original::socket(domain, type, protocol);
}

int connect(int fd, const sockaddr* address, socklen_t length) {
  return on() ? cooperative::connect(fd, address, length) : original::connect(fd, address, length);
}

int accept(int fd, sockaddr* address, socklen_t* length) {
  return on() ? cooperative::accept(fd, address, length) : original::accept(fd, address, length);
}

int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  return on() ? cooperative::accept4(fd, address, length, flags)
              : original::accept4(fd, address, length, flags);
}

ssize_t read(int fd, void* buffer, size_t count) {
  return on() ? cooperative::read(fd, buffer, count) : original::read(fd, buffer, count);
}

ssize_t __read_chk(int fd, void* buffer, size_t count, size_t buffer_size) {
  if (count > buffer_size) __chk_fail();
  return read(fd, buffer, count);
}

ssize_t write(int fd, const void* buffer, size_t count) {
  return on() ? cooperative::write(fd, buffer, count) : original::write(fd, buffer, count);
}

ssize_t pread(int fd, void* buffer, size_t count, off_t offset) {
  return on() ? cooperative::pread(fd, buffer, count, offset)
              : original::pread(fd, buffer, count, offset);
}

// What pread is called under with _FILE_OFFSET_BITS=64 (the same call: off_t
// is 64 bits here).
ssize_t pread64(int fd, void* buffer, size_t count, off64_t offset) {
  return pread(fd, buffer, count, offset);
}

ssize_t __pread_chk(int fd, void* buffer, size_t count, off_t offset, size_t buffer_size) {
  if (count > buffer_size) __chk_fail();
  return pread(fd, buffer, count, offset);
}

ssize_t __pread64_chk(int fd, void* buffer, size_t count, off64_t offset, size_t buffer_size) {
  if (count > buffer_size) __chk_fail();
  return pread(fd, buffer, count, offset);
}

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  return on() ? cooperative::pwrite(fd, buffer, count, offset)
              : original::pwrite(fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t count, off64_t offset) {
  return pwrite(fd, buffer, count, offset);
}

ssize_t readv(int fd, const iovec* vector, int count) {
  return on() ? cooperative::readv(fd, vector, count) : original::readv(fd, vector, count);
}

ssize_t writev(int fd, const iovec* vector, int count) {
  return on() ? cooperative::writev(fd, vector, count) : original::writev(fd, vector, count);
}

ssize_t recv(int fd, void* buffer, size_t length, int flags) {
  return on() ? cooperative::recv(fd, buffer, length, flags)
              : original::recv(fd, buffer, length, flags);
}

ssize_t __recv_chk(int fd, void* buffer, size_t length, size_t buffer_size, int flags) {
  if (length > buffer_size) __chk_fail();
  return recv(fd, buffer, length, flags);
}

ssize_t send(int fd, const void* buffer, size_t length, int flags) {
  return on() ? cooperative::send(fd, buffer, length, flags)
              : original::send(fd, buffer, length, flags);
}

ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length) {
  return on() ? cooperative::recvfrom(fd, buffer, length, flags, address, address_length)
              : original::recvfrom(fd, buffer, length, flags, address, address_length);
}

ssize_t __recvfrom_chk(int fd, void* buffer, size_t length, size_t buffer_size, int flags,
                       sockaddr* address, socklen_t* address_length) {
  if (length > buffer_size) __chk_fail();
  return recvfrom(fd, buffer, length, flags, address, address_length);
}

ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
               socklen_t address_length) {
  return on() ? cooperative::sendto(fd, buffer, length, flags, address, address_length)
              : original::sendto(fd, buffer, length, flags, address, address_length);
}

ssize_t recvmsg(int fd, msghdr* message, int flags) {
  return on() ? cooperative::recvmsg(fd, message, flags) : original::recvmsg(fd, message, flags);
}

ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  return on() ? cooperative::sendmsg(fd, message, flags) : original::sendmsg(fd, message, flags);
}

int close(int fd) { return on() ? cooperative::close(fd) : original::close(fd); }

int fcntl(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  void* argument = optional_argument(arguments);
  va_end(arguments);
  return on() ? cooperative::fcntl(fd, command, argument) : original::fcntl(fd, command, argument);
}

// What fcntl is called under when code is built with _FILE_OFFSET_BITS=64.
int fcntl64(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  void* argument = optional_argument(arguments);
  va_end(arguments);
  return on() ? cooperative::fcntl(fd, command, argument) : original::fcntl(fd, command, argument);
}

int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list arguments;
  va_start(arguments, request);
  void* argument = optional_argument(arguments);
  va_end(arguments);
  return on() ? cooperative::ioctl(fd, request, argument) : original::ioctl(fd, request, argument);
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t length) noexcept {
  return on() ? cooperative::setsockopt(fd, level, name, value, length)
              : original::setsockopt(fd, level, name, value, length);
}

int dup(int fd) noexcept { return on() ? cooperative::dup(fd) : original::dup(fd); }

int dup2(int fd, int target) noexcept {
  return on() ? cooperative::dup2(fd, target) : original::dup2(fd, target);
}

int dup3(int fd, int target, int flags) noexcept {
  return on() ? cooperative::dup3(fd, target, flags) : original::dup3(fd, target, flags);
}

}  // extern "C"
