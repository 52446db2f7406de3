// ReadBuffer: the bytes a stream has received but not yet handed out (the
// seed's StringBuffer). Data is read from the descriptor straight into the
// buffer's free tail (no copy), searched for delimiters across the boundaries
// of the reads that brought it, and handed out from the front.
//
// Grows by doubling and compacts by moving the unread bytes to the front
// only when the free tail is too small, so steady small messages never move.
// Single-threaded.
#ifndef EVERGREEN_IO_INTERNAL_READ_BUFFER_H_
#define EVERGREEN_IO_INTERNAL_READ_BUFFER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace evergreen::io::internal {

class ReadBuffer {
 public:
  static constexpr size_t npos = std::string_view::npos;

  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  std::string_view view() const { return {data_.get() + begin_, size()}; }

  // Appends a copy of `data`.
  void append(std::string_view data);

  // ReadBuffer::prepare()
  //
  // Room at the end for the next read: at least `min_room` bytes (compacting
  // or growing), returned as a pointer and its size (which may exceed
  // min_room). Fill it and call commit().
  char* prepare(size_t min_room, size_t* room);
  void commit(size_t count) { end_ += count; }

  // Removes and returns the first `count` bytes (count <= size()).
  std::string take(size_t count);
  // Drops everything and frees the storage.
  void clear();

  // ReadBuffer::find()
  //
  // The offset just past the first occurrence of `delimiter` that starts at or
  // after `from`, or npos.
  size_t find(std::string_view delimiter, size_t from = 0) const;

  // ReadBuffer::find_regex()
  //
  // The offset just past the leftmost match of `pattern` (a RE2 in Latin-1
  // mode, so any byte is a character), or npos. `empty_match` is set when
  // that match is empty.
  size_t find_regex(const re2::RE2& pattern, bool* empty_match) const;

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_READ_BUFFER_H_
