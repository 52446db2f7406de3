#include "evergreen/io/internal/read_buffer.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

namespace evergreen::io::internal {
namespace {

constexpr size_t kInitialCapacity = 4096;

}  // namespace

void ReadBuffer::append(std::string_view data) {
  size_t room = 0;
  char* tail = prepare(data.size(), &room);
  if (!data.empty()) std::memcpy(tail, data.data(), data.size());
  commit(data.size());
}

char* ReadBuffer::prepare(size_t min_room, size_t* room) {
  if (capacity_ - end_ < min_room) {
    size_t used = size();
    if (capacity_ - used >= min_room && used <= capacity_ / 2) {
      // Enough space once the unread bytes move to the front.
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      size_t capacity = std::max(capacity_ * 2, kInitialCapacity);
      while (capacity - used < min_room) capacity *= 2;
      auto grown = std::make_unique_for_overwrite<char[]>(capacity);
      if (used > 0) std::memcpy(grown.get(), data_.get() + begin_, used);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    begin_ = 0;
    end_ = used;
  }
  *room = capacity_ - end_;
  return data_.get() + end_;
}

std::string ReadBuffer::take(size_t count) {
  std::string result(data_.get() + begin_, count);
  begin_ += count;
  // Empty again: start over at the front so the tail stays large.
  if (begin_ == end_) begin_ = end_ = 0;
  return result;
}

void ReadBuffer::clear() {
  data_.reset();
  capacity_ = begin_ = end_ = 0;
}

size_t ReadBuffer::find(std::string_view delimiter, size_t from) const {
  std::string_view data = view();
  if (from > data.size()) return npos;
  size_t found = delimiter.size() == 1 ? data.find(delimiter[0], from) : data.find(delimiter, from);
  return found == npos ? npos : found + delimiter.size();
}

size_t ReadBuffer::find_regex(const re2::RE2& pattern, bool* empty_match) const {
  std::string_view data = view();
  re2::StringPiece text(data.data(), data.size());
  re2::StringPiece match;
  if (!pattern.Match(text, 0, text.size(), re2::RE2::UNANCHORED, &match, 1)) return npos;
  *empty_match = match.empty();
  return static_cast<size_t>(match.data() - text.data()) + match.size();
}

}  // namespace evergreen::io::internal
