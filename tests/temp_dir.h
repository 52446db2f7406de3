// TempDir: a directory of the test's own under TEST_TMPDIR (or /tmp), and
// the files the test names in it, all removed when the object goes.
#ifndef EVERGREEN_TESTS_TEMP_DIR_H_
#define EVERGREEN_TESTS_TEMP_DIR_H_

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace evergreen::testing {

class TempDir {
 public:
  // `prefix` names the directory ("file_test" -> file_test.XXXXXX).
  explicit TempDir(const std::string& prefix) {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("TempDir: mkdtemp failed for " + pattern);
    }
    path_ = pattern;
  }
  ~TempDir() {
    for (const std::string& file : files_) ::unlink(file.c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` in the directory, removed with it.
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_TEMP_DIR_H_
