// The seed's buffer tests (StringBuffer): reads hand out what was fed, in
// order, and searches span everything buffered.
#include "evergreen/io/internal/read_buffer.h"

#include <re2/re2.h>

#include "gtest/gtest.h"

namespace evergreen::io::internal {
namespace {

TEST(ReadBufferTest, Read) {
  ReadBuffer buffer;
  buffer.append("hello world");
  EXPECT_EQ(buffer.take(5), "hello");
  EXPECT_EQ(buffer.take(6), " world");
  EXPECT_TRUE(buffer.empty());
}

TEST(ReadBufferTest, ReadUntil) {
  ReadBuffer buffer;
  buffer.append("hello\nworld\n");
  size_t end = buffer.find("\n");
  ASSERT_NE(end, ReadBuffer::npos);
  EXPECT_EQ(buffer.take(end), "hello\n");
  end = buffer.find("\n");
  ASSERT_NE(end, ReadBuffer::npos);
  EXPECT_EQ(buffer.take(end), "world\n");
  EXPECT_EQ(buffer.find("\n"), ReadBuffer::npos);
}

TEST(ReadBufferTest, ReadUntilMultiByteDelimiterFedInPieces) {
  ReadBuffer buffer;
  buffer.append("hello\r");
  EXPECT_EQ(buffer.find("\r\n"), ReadBuffer::npos);
  buffer.append("\nrest");
  size_t end = buffer.find("\r\n", 5);
  ASSERT_NE(end, ReadBuffer::npos);
  EXPECT_EQ(buffer.take(end), "hello\r\n");
  EXPECT_EQ(buffer.view(), "rest");
}

TEST(ReadBufferTest, ReadUntilRegex) {
  re2::RE2 regex("~~");
  ReadBuffer buffer;
  buffer.append("hello~~world~~");
  bool empty = false;
  size_t end = buffer.find_regex(regex, &empty);
  ASSERT_NE(end, ReadBuffer::npos);
  EXPECT_EQ(buffer.take(end), "hello~~");
  end = buffer.find_regex(regex, &empty);
  ASSERT_NE(end, ReadBuffer::npos);
  EXPECT_EQ(buffer.take(end), "world~~");
  EXPECT_EQ(buffer.find_regex(regex, &empty), ReadBuffer::npos);
}

TEST(ReadBufferTest, Clear) {
  ReadBuffer buffer;
  buffer.append("hello world");
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.find("o"), ReadBuffer::npos);
}

TEST(ReadBufferTest, GrowsAndCompactsKeepingOrder) {
  ReadBuffer buffer;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    std::string piece = std::to_string(i) + ",";
    buffer.append(piece);
    expected += piece;
    if (i % 7 == 0) {
      size_t count = buffer.size() / 2;
      EXPECT_EQ(buffer.take(count), expected.substr(0, count));
      expected.erase(0, count);
    }
  }
  EXPECT_EQ(buffer.view(), expected);
  size_t room = 0;
  char* tail = buffer.prepare(100000, &room);
  EXPECT_GE(room, 100000u);
  tail[0] = '!';
  buffer.commit(1);
  EXPECT_EQ(buffer.view(), expected + "!");
}

}  // namespace
}  // namespace evergreen::io::internal
