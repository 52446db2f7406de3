# The GoogleTest suites under tests/, one executable and one ctest test per
# tests/<component>/<name>_test.cc, as the Bazel cc_test targets. Executables
# are named <component>_<name>_test (tests/io/dns_test.cc and
# tests/patch/dns_test.cc would collide otherwise). Like the library sources,
# the test files are globbed and checked against tests/<component>/BUILD.bazel.
#
# Differences from Bazel's tests, all in //tests/patch:
# - everything is linked statically into each test (linkstatic = True in
#   Bazel); curl_dynamic_link_test, //patch as a shared object, has no CMake
#   counterpart because the CMake build makes static archives only;
# - curl_test and hiredis_test are built only when libcurl / hiredis (and, for
#   hiredis_test, a redis-server to start) are installed.
find_package(GTest CONFIG REQUIRED)   # libgtest-dev
find_package(PkgConfig REQUIRED)
pkg_check_modules(EVERGREEN_TEST_CURL QUIET IMPORTED_TARGET libcurl)
pkg_check_modules(EVERGREEN_TEST_HIREDIS QUIET IMPORTED_TARGET hiredis)
find_program(EVERGREEN_REDIS_SERVER redis-server)

# Bazel's test timeouts (.bazelrc: --test_timeout=60,240,...), here one for all:
# 240 s, "medium".
set(EVERGREEN_TEST_TIMEOUT 240 CACHE STRING "ctest timeout of each test binary, seconds")

set(_evergreen_test_deps_fiber evergreen::fiber)
set(_evergreen_test_deps_loop evergreen::loop)
set(_evergreen_test_deps_sync evergreen::sync evergreen::loop)
set(_evergreen_test_deps_futures evergreen::futures evergreen::loop)
set(_evergreen_test_deps_io evergreen::tls evergreen::io evergreen::sync evergreen::loop re2::re2 c-ares::cares util)
set(_evergreen_test_deps_patch evergreen::patch evergreen::io evergreen::loop)
set(_evergreen_test_deps_soak evergreen::io evergreen::sync evergreen::loop absl::cleanup)

# //tests/fiber:large_frames: frames as code built without stack-clash probing
# has them, which the guard region must catch by its size alone.
add_library(evergreen_test_large_frames STATIC "${PROJECT_SOURCE_DIR}/tests/fiber/large_frames.cc")
target_include_directories(evergreen_test_large_frames PUBLIC "${PROJECT_SOURCE_DIR}")
target_compile_features(evergreen_test_large_frames PUBLIC cxx_std_20)
target_compile_options(evergreen_test_large_frames PRIVATE -fno-stack-clash-protection)
list(APPEND _evergreen_test_deps_fiber evergreen_test_large_frames)

foreach(_component IN ITEMS fiber loop sync futures io patch soak)
  set(_dir "${PROJECT_SOURCE_DIR}/tests/${_component}")
  file(GLOB _tests CONFIGURE_DEPENDS RELATIVE "${_dir}" "${_dir}/*_test.cc")
  list(SORT _tests)
  set(_names "")
  foreach(_test IN LISTS _tests)
    string(REGEX REPLACE "\\.cc$" "" _stem "${_test}")
    # A test file is named in BUILD.bazel as "x_test.cc" or, in the
    # list comprehensions, as the target name "x_test".
    list(APPEND _names "${_test}|${_stem}")
  endforeach()
  evergreen_check_bazel_lists("${_dir}" ${_names})

  foreach(_test IN LISTS _tests)
    string(REGEX REPLACE "\\.cc$" "" _stem "${_test}")
    set(_extra "")
    if(_component STREQUAL "patch" AND (_stem STREQUAL "curl_test" OR _stem STREQUAL "curl_tls_test"))
      if(NOT TARGET PkgConfig::EVERGREEN_TEST_CURL)
        message(STATUS "evergreen: skipping tests/patch/${_stem} (libcurl not found; Debian: libcurl4-openssl-dev)")
        continue()
      endif()
      set(_extra PkgConfig::EVERGREEN_TEST_CURL)
      if(_stem STREQUAL "curl_tls_test")
        list(APPEND _extra evergreen::tls)
      endif()
    elseif(_component STREQUAL "patch" AND _stem STREQUAL "hiredis_test")
      if(NOT TARGET PkgConfig::EVERGREEN_TEST_HIREDIS OR NOT EVERGREEN_REDIS_SERVER)
        message(STATUS "evergreen: skipping tests/patch/hiredis_test (needs hiredis and redis-server; Debian: libhiredis-dev redis-server)")
        continue()
      endif()
      set(_extra PkgConfig::EVERGREEN_TEST_HIREDIS)
    endif()
    set(_deps ${_evergreen_test_deps_${_component}})
    if(_component STREQUAL "patch" AND _stem STREQUAL "umbrella_test")
      set(_deps evergreen::evergreen)   # the umbrella alone: no interposers, as in Bazel
    endif()
    set(_target ${_component}_${_stem})
    add_executable(${_target} "${_dir}/${_test}")
    # tests/fresh_loop.h and the like are included as "tests/...".
    target_include_directories(${_target} PRIVATE "${PROJECT_SOURCE_DIR}" "${_dir}")
    target_compile_options(${_target} PRIVATE ${EVERGREEN_COPTS})
    target_link_libraries(${_target} PRIVATE ${_deps} ${_extra}
      GTest::gtest_main GTest::gtest)
    add_test(NAME ${_target} COMMAND ${_target})
    set_tests_properties(${_target} PROPERTIES
      TIMEOUT ${EVERGREEN_TEST_TIMEOUT}
      LABELS "gtest;${_component}")
  endforeach()
endforeach()
