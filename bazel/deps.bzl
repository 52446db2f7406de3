"""evergreen's external repositories, all backed by Debian packages.

A workspace that depends on evergreen calls evergreen_dependencies() from its
WORKSPACE (see README.md), so labels such as @com_google_absl//absl/... resolve
the same way in both.
"""

load("//bazel:debian_rules_cc.bzl", "debian_rules_cc")
load("//bazel:system_library.bzl", "system_library")

def evergreen_dependencies():
    debian_rules_cc(name = "rules_cc")

    # Bazel's default toolchains reference @rules_java even in a C++-only build.
    native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")

    # `bazel test` wants coverage tools it would otherwise download.
    native.new_local_repository(
        name = "remote_coverage_tools",
        path = "/usr/share/bazel/rules/java",
        build_file_content = """
filegroup(name = "coverage_report_generator", visibility = ["//visibility:public"])
filegroup(name = "lcov_merger", visibility = ["//visibility:public"])
""",
    )

    system_library(
        name = "com_google_absl",
        package = "absl",
        targets = {
            "any_invocable": "libabsl-dev||",
            "cleanup": "libabsl-dev||",
            "base": "libabsl-dev|absl_base|",
            "flat_hash_map": "libabsl-dev|absl_raw_hash_set absl_hash|",
            "synchronization": "libabsl-dev|absl_synchronization|",
            "strings": "libabsl-dev|absl_strings absl_str_format_internal|",
            "time": "libabsl-dev|absl_time|",
        },
    )
    system_library(
        name = "com_google_googletest",
        targets = {
            "gtest": "libgtest-dev||-lgtest -lpthread",
            "gtest_main": "libgtest-dev||-lgtest_main -lgtest -lpthread",
            "gmock": "libgmock-dev||-lgmock -lgtest -lpthread",
        },
    )
    system_library(
        name = "com_github_google_benchmark",
        targets = {
            "benchmark": "libbenchmark-dev||-lbenchmark -lpthread",
            "benchmark_main": "libbenchmark-dev||-lbenchmark_main -lbenchmark -lpthread",
        },
    )
    system_library(
        name = "com_github_c_ares_c_ares",
        targets = {"ares": "libc-ares-dev|libcares|"},
    )
    system_library(
        name = "com_googlesource_code_re2",
        targets = {"re2": "libre2-dev|re2|"},
    )
    # Real blocking client libraries for //tests/patch and //examples:crawler.
    system_library(
        name = "curl",
        targets = {"curl": "libcurl4-openssl-dev|libcurl|"},
    )
    system_library(
        name = "hiredis",
        targets = {"hiredis": "libhiredis-dev|hiredis|"},
    )
    system_library(
        name = "boost",
        targets = {
            # Only the comparison benchmarks link these; the library never does.
            "context": "libboost-context-dev||-lboost_context",
            "fiber": "libboost-fiber-dev||-lboost_fiber -lboost_context",
        },
    )
