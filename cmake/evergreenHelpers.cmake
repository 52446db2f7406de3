# Functions CMakeLists.txt builds evergreen's components with.
#
# Source lists: each component compiles every .cc under its directory, found
# with file(GLOB_RECURSE ... CONFIGURE_DEPENDS), and that list is checked
# against the component's BUILD.bazel at every configure. Why not explicit
# lists: the Bazel BUILD files are the ones people edit, and a second list kept
# by hand here drifts silently - a .cc added to BUILD.bazel and forgotten here
# shows up only as an undefined symbol in some consumer. With the glob a new
# file is compiled as soon as it exists (CONFIGURE_DEPENDS re-runs the glob on
# every build and reconfigures when it changed), and the check fails the
# configure when a file on disk is not named in BUILD.bazel, so both builds
# compile the same files. (Bazel itself fails on a name in BUILD.bazel that is
# not on disk, which covers the other direction.) EVERGREEN_CHECK_BAZEL_LISTS=OFF
# turns the check off, e.g. for a trimmed source tree without BUILD files.

# Fails the configure when a file found on disk under DIR is not named in
# DIR/BUILD.bazel. NAMES: the names each file may appear under, as
# "file=name1|name2;..." pairs, or plain relative file names.
function(evergreen_check_bazel_lists dir)
  if(NOT EVERGREEN_CHECK_BAZEL_LISTS)
    return()
  endif()
  set(build_file "${dir}/BUILD.bazel")
  if(NOT EXISTS "${build_file}")
    message(FATAL_ERROR "${build_file} is missing (EVERGREEN_CHECK_BAZEL_LISTS=OFF skips this check)")
  endif()
  file(READ "${build_file}" build)
  set(missing "")
  foreach(entry IN LISTS ARGN)
    string(REPLACE "|" ";" names "${entry}")
    list(GET names 0 file)
    set(found FALSE)
    foreach(name IN LISTS names)
      string(FIND "${build}" "\"${name}\"" at)
      if(NOT at EQUAL -1)
        set(found TRUE)
      endif()
    endforeach()
    if(NOT found)
      list(APPEND missing "${file}")
    endif()
  endforeach()
  if(missing)
    list(JOIN missing ", " missing)
    message(FATAL_ERROR
      "${dir}: ${missing} not named in BUILD.bazel: CMake compiles every source of a "
      "component, so add them to the Bazel target too (or remove them), so that both builds "
      "compile the same files.")
  endif()
endfunction()

# Makes HEADER (absolute) includable as "evergreen/<INCLUDE_PATH>" in the
# build tree, through a symlink under ${PROJECT_BINARY_DIR}/include (file by
# file, not a directory link, so that no BUILD.bazel appears under the build
# directory for Bazel's //... to find), and installs it to
# include/evergreen/<INCLUDE_PATH>.
function(evergreen_add_header header include_path)
  set(link "${PROJECT_BINARY_DIR}/include/evergreen/${include_path}")
  get_filename_component(link_dir "${link}" DIRECTORY)
  file(MAKE_DIRECTORY "${link_dir}")
  if(NOT IS_SYMLINK "${link}")
    file(CREATE_LINK "${header}" "${link}" SYMBOLIC)
  endif()
  if(EVERGREEN_INSTALL)
    get_filename_component(install_dir "${CMAKE_INSTALL_INCLUDEDIR}/evergreen/${include_path}" DIRECTORY)
    install(FILES "${header}" DESTINATION "${install_dir}" COMPONENT evergreen_development)
  endif()
endfunction()

# Warnings as in .bazelrc, frame pointers (profilers and the stack-overflow
# report walk them) and stack-clash probing (a frame larger than a task's stack
# touches its guard first; fiber/internal/stack_pool.h). PRIVATE: they apply to
# evergreen's own code, not to its consumers (the README tells them why they
# want the last one too).
set(EVERGREEN_COPTS -Wall -Wextra -Wno-unused-parameter -fno-omit-frame-pointer -fstack-clash-protection)

# evergreen_add_component(NAME [TARGET t] [OUTPUT_NAME o] [EXPORT_NAME e]
#                         [SOURCES_MATCHING regex] [SOURCES_NOT_MATCHING regex]
#                         [NO_HEADERS] [PUBLIC deps...] [PRIVATE deps...])
# A static library built from every .cc under NAME/, with every .h under NAME/
# included as "evergreen/NAME/...", as the Bazel target //NAME does
# (include_prefix = "evergreen/NAME"). Internal headers are installed too:
# public headers include them. A directory with two Bazel targets (patch:
# :cooperative and the interposers) is two calls that split its sources with
# the two regexes (matched against the path relative to NAME/); NO_HEADERS on
# one of them, so the headers are added once.
function(evergreen_add_component name)
  cmake_parse_arguments(arg "NO_HEADERS" "TARGET;OUTPUT_NAME;EXPORT_NAME;SOURCES_MATCHING;SOURCES_NOT_MATCHING"
                        "PUBLIC;PRIVATE" ${ARGN})
  if(NOT arg_TARGET)
    set(arg_TARGET evergreen_${name})
  endif()
  if(NOT arg_OUTPUT_NAME)
    set(arg_OUTPUT_NAME evergreen_${name})
  endif()
  if(NOT arg_EXPORT_NAME)
    set(arg_EXPORT_NAME ${name})
  endif()
  set(dir "${PROJECT_SOURCE_DIR}/${name}")
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS RELATIVE "${dir}" "${dir}/*.cc")
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE "${dir}" "${dir}/*.h")
  list(SORT sources)
  list(SORT headers)
  evergreen_check_bazel_lists("${dir}" ${sources} ${headers})
  if(arg_SOURCES_MATCHING)
    list(FILTER sources INCLUDE REGEX "${arg_SOURCES_MATCHING}")
  endif()
  if(arg_SOURCES_NOT_MATCHING)
    list(FILTER sources EXCLUDE REGEX "${arg_SOURCES_NOT_MATCHING}")
  endif()
  if(arg_NO_HEADERS)
    set(headers "")
  endif()
  if(NOT sources)
    message(FATAL_ERROR "${dir}: no sources for ${arg_TARGET}")
  endif()

  set(absolute_sources "")
  foreach(file IN LISTS sources headers)
    list(APPEND absolute_sources "${dir}/${file}")
  endforeach()
  add_library(${arg_TARGET} STATIC ${absolute_sources})
  add_library(evergreen::${arg_EXPORT_NAME} ALIAS ${arg_TARGET})
  set_target_properties(${arg_TARGET} PROPERTIES
    OUTPUT_NAME ${arg_OUTPUT_NAME}
    EXPORT_NAME ${arg_EXPORT_NAME})
  target_include_directories(${arg_TARGET} PUBLIC
    "$<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  target_compile_features(${arg_TARGET} PUBLIC cxx_std_20)
  target_compile_options(${arg_TARGET} PRIVATE ${EVERGREEN_COPTS})
  target_link_libraries(${arg_TARGET} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})
  foreach(header IN LISTS headers)
    evergreen_add_header("${dir}/${header}" "${name}/${header}")
  endforeach()
  set_property(GLOBAL APPEND PROPERTY EVERGREEN_INSTALL_TARGETS ${arg_TARGET})
endfunction()

# Writes evergreen-NAME.pc (or FILE.pc) and installs it. The libraries are
# static archives, so everything a program must link with them is in Requires
# and Libs: `pkg-config --libs` without --static leaves out Requires.private and
# Libs.private, and a program linking libevergreen_io.a still needs -lcares.
# prefix is computed from the .pc file's own location (${pcfiledir}), so an
# installed tree can be moved or installed with `cmake --install --prefix`.
function(evergreen_pkg_config name)
  cmake_parse_arguments(arg "" "FILE;DESCRIPTION" "REQUIRES;LIBS" ${ARGN})
  if(NOT arg_FILE)
    set(arg_FILE evergreen-${name})
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(prefix "${CMAKE_INSTALL_PREFIX}")
    set(libdir "${CMAKE_INSTALL_LIBDIR}")
  else()
    file(RELATIVE_PATH to_prefix "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
    string(REGEX REPLACE "/$" "" to_prefix "${to_prefix}")
    set(prefix "\${pcfiledir}/${to_prefix}")
    set(libdir "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(includedir "${CMAKE_INSTALL_INCLUDEDIR}")
  else()
    set(includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  list(JOIN arg_REQUIRES " " requires)
  list(JOIN arg_LIBS " " libs)
  set(pc "${PROJECT_BINARY_DIR}/pkgconfig/${arg_FILE}.pc")
  file(CONFIGURE OUTPUT "${pc}" @ONLY CONTENT [[
prefix=@prefix@
libdir=@libdir@
includedir=@includedir@

Name: @arg_FILE@
Description: @arg_DESCRIPTION@
Version: @PROJECT_VERSION@
Requires: @requires@
Cflags: -I${includedir}
Libs: @libs@
]])
  if(EVERGREEN_INSTALL)
    install(FILES "${pc}" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
            COMPONENT evergreen_development)
  endif()
endfunction()
