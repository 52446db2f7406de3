#include "evergreen/io/errno.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace evergreen::io {
namespace {

TEST(ErrnoTest, Names) {
  EXPECT_EQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(errno_name(ENOENT), "ENOENT");
  EXPECT_EQ(errno_name(EPIPE), "EPIPE");
  EXPECT_EQ(errno_name(99999), "E99999");
}

TEST(ErrnoTest, Descriptions) {
  EXPECT_EQ(io::strerror(ECONNREFUSED), "Connection refused");
  EXPECT_EQ(io::strerror(ENOENT), "No such file or directory");
  EXPECT_FALSE(io::strerror(99999).empty());
}

}  // namespace
}  // namespace evergreen::io
