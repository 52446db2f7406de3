# Finds the libraries evergreen links that Debian 12 ships without a CMake
# package, and names them the way their upstream CMake packages do, so that
# evergreen's targets (and its installed evergreenTargets.cmake) refer to the
# same target names whichever way they were found:
#
#   c-ares::cares  c-ares's own c-ares-config.cmake, else pkg-config's libcares
#                  (Debian 12's libc-ares-dev 1.18 ships only libcares.pc)
#   re2::re2       RE2's own re2Config.cmake, else pkg-config's re2
#                  (Debian 12's libre2-dev ships only re2.pc)
#   uring::uring   pkg-config's liburing (liburing ships no CMake package)
#
# Used by the build (CMakeLists.txt) and installed beside evergreenConfig.cmake,
# which calls it again in the consumer's project.

# Defines imported target TARGET, from CMake package CONFIG_PACKAGE if it has
# one, else from pkg-config module PKG_CONFIG_MODULE. Leaves TARGET undefined
# when neither finds the library; the caller reports it.
function(evergreen_import_dependency target config_package pkg_config_module)
  if(TARGET ${target})
    return()
  endif()
  find_package(${config_package} CONFIG QUIET)
  if(TARGET ${target})
    return()
  endif()
  find_package(PkgConfig QUIET)
  if(NOT PKG_CONFIG_FOUND)
    return()
  endif()
  string(MAKE_C_IDENTIFIER "evergreen_${pkg_config_module}" prefix)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${pkg_config_module})
  if(TARGET PkgConfig::${prefix})
    add_library(${target} INTERFACE IMPORTED)
    target_link_libraries(${target} INTERFACE PkgConfig::${prefix})
  endif()
endfunction()

# Each of evergreen's, and the Debian package that provides each. Sets
# EVERGREEN_MISSING_DEPENDENCIES to what is still missing.
function(evergreen_import_dependencies)
  evergreen_import_dependency(c-ares::cares c-ares libcares)
  evergreen_import_dependency(re2::re2 re2 re2)
  evergreen_import_dependency(uring::uring liburing liburing)
  set(missing "")
  if(NOT TARGET c-ares::cares)
    list(APPEND missing "c-ares (Debian: libc-ares-dev)")
  endif()
  if(NOT TARGET re2::re2)
    list(APPEND missing "RE2 (Debian: libre2-dev)")
  endif()
  if(NOT TARGET uring::uring)
    list(APPEND missing "liburing (Debian: liburing-dev)")
  endif()
  set(EVERGREEN_MISSING_DEPENDENCIES "${missing}" PARENT_SCOPE)
endfunction()
