# examples/, with the deps their Bazel targets have (examples/BUILD.bazel). An
# example added there and not listed here links the umbrella,
# evergreen::evergreen. The self-contained ones also run as ctest tests
# (labelled "example"): echo_demo, readme_example, tls_echo, chat_server and, with libcurl, crawler.
find_package(PkgConfig REQUIRED)
pkg_check_modules(EVERGREEN_EXAMPLE_CURL QUIET IMPORTED_TARGET libcurl)

set(_evergreen_example_deps_echo_server evergreen::io evergreen::loop)
set(_evergreen_example_deps_echo_client evergreen::io evergreen::loop)
set(_evergreen_example_deps_echo_demo evergreen::io evergreen::loop)
set(_evergreen_example_deps_tls_echo evergreen::tls evergreen::io evergreen::loop)
set(_evergreen_example_deps_echo_server_multicore evergreen::io evergreen::loop)
set(_evergreen_example_deps_readme_example evergreen::evergreen)
set(_evergreen_example_deps_chat_server evergreen::sync evergreen::io evergreen::loop)
set(_evergreen_example_deps_crawler
  evergreen::futures evergreen::io evergreen::loop evergreen::patch PkgConfig::EVERGREEN_EXAMPLE_CURL)
set(_evergreen_examples_run echo_demo readme_example crawler tls_echo chat_server)

set(_dir "${PROJECT_SOURCE_DIR}/examples")
file(GLOB _examples CONFIGURE_DEPENDS RELATIVE "${_dir}" "${_dir}/*.cc")
list(SORT _examples)
evergreen_check_bazel_lists("${_dir}" ${_examples})
foreach(_example IN LISTS _examples)
  string(REGEX REPLACE "\\.cc$" "" _name "${_example}")
  if(_name STREQUAL "crawler" AND NOT TARGET PkgConfig::EVERGREEN_EXAMPLE_CURL)
    message(STATUS "evergreen: skipping examples/crawler (libcurl not found; Debian: libcurl4-openssl-dev)")
    continue()
  endif()
  set(_deps ${_evergreen_example_deps_${_name}})
  if(NOT _deps)
    set(_deps evergreen::evergreen)
  endif()
  add_executable(example_${_name} "${_dir}/${_example}")
  set_target_properties(example_${_name} PROPERTIES OUTPUT_NAME ${_name}
    RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/examples")
  target_compile_options(example_${_name} PRIVATE ${EVERGREEN_COPTS})
  target_link_libraries(example_${_name} PRIVATE ${_deps})
  if(_name IN_LIST _evergreen_examples_run)
    add_test(NAME example_${_name} COMMAND example_${_name})
    set_tests_properties(example_${_name} PROPERTIES TIMEOUT 120 LABELS example)
  endif()
endforeach()
