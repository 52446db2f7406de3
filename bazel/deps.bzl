"""evergreen's external repositories, all backed by Debian packages.

A workspace that depends on evergreen calls evergreen_dependencies() from its
WORKSPACE (see README.md). Every declaration is wrapped in maybe(): a
workspace that already declares a repository of the same name (its own
Abseil, GoogleTest...) keeps it, and evergreen builds against it. For that the
BUILD files use each library's own upstream labels (Abseil's
//absl/functional:any_invocable, GoogleTest's //:gtest, c-ares's //:ares,
RE2's //:re2, Google Benchmark's //:benchmark), which the Debian wrappers
below reproduce.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//bazel:debian_rules_cc.bzl", "debian_rules_cc")
load("//bazel:system_library.bzl", "system_library")

def evergreen_dependencies():
    maybe(debian_rules_cc, name = "rules_cc")

    # Bazel's default toolchains reference @rules_java even in a C++-only build.
    maybe(native.local_repository, name = "rules_java", path = "/usr/share/bazel/rules/java")

    # `bazel test` wants coverage tools it would otherwise download.
    maybe(
        native.new_local_repository,
        name = "remote_coverage_tools",
        path = "/usr/share/bazel/rules/java",
        build_file_content = """
filegroup(name = "coverage_report_generator", visibility = ["//visibility:public"])
filegroup(name = "lcov_merger", visibility = ["//visibility:public"])
""",
    )

    maybe(
        system_library,
        name = "com_google_absl",
        targets = {
            "absl/base:base": "libabsl-dev|absl_base|",
            "absl/cleanup:cleanup": "libabsl-dev||",
            "absl/container:flat_hash_map": "libabsl-dev|absl_raw_hash_set absl_hash|",
            "absl/functional:any_invocable": "libabsl-dev||",
            "absl/strings:strings": "libabsl-dev|absl_strings absl_str_format_internal|",
            "absl/synchronization:synchronization": "libabsl-dev|absl_synchronization|",
            "absl/time:time": "libabsl-dev|absl_time|",
        },
    )
    maybe(
        system_library,
        name = "com_google_googletest",
        targets = {
            # Upstream's //:gtest carries GoogleMock too.
            "gtest": "libgtest-dev||-lgmock -lgtest -lpthread",
            "gtest_main": "libgtest-dev||-lgtest_main -lgmock -lgtest -lpthread",
        },
    )
    maybe(
        system_library,
        name = "com_github_google_benchmark",
        targets = {
            "benchmark": "libbenchmark-dev||-lbenchmark -lpthread",
            "benchmark_main": "libbenchmark-dev||-lbenchmark_main -lbenchmark -lpthread",
        },
    )
    maybe(
        system_library,
        name = "com_github_c_ares_c_ares",
        targets = {"ares": "libc-ares-dev|libcares|"},
    )
    # The io_uring backend (//loop). Not on the Bazel Central Registry: under
    # Bzlmod too it comes from the system (see MODULE.bazel).
    maybe(
        system_library,
        name = "liburing",
        targets = {"liburing": "liburing-dev|liburing|"},
    )
    maybe(
        system_library,
        name = "com_googlesource_code_re2",
        targets = {"re2": "libre2-dev|re2|"},
    )
    # //io:tls (OpenSSL 3); Abseil-style upstream label: BoringSSL's and the
    # rules_openssl wrappers' //:ssl.
    maybe(
        system_library,
        name = "openssl",
        targets = {"ssl": "libssl-dev|libssl libcrypto|"},
    )
    # Real blocking client libraries for //tests/patch and //examples:crawler.
    maybe(
        system_library,
        name = "curl",
        targets = {"curl": "libcurl4-openssl-dev|libcurl|"},
    )
    maybe(
        system_library,
        name = "hiredis",
        targets = {"hiredis": "libhiredis-dev|hiredis|"},
    )
    maybe(
        system_library,
        name = "boost",
        targets = {
            # Only the comparison benchmarks link these; the library never does.
            "context": "libboost-context-dev||-lboost_context",
            "fiber": "libboost-fiber-dev||-lboost_fiber -lboost_context",
        },
    )
