"""Mirrors Debian's rules_cc so it loads under Debian's Bazel 4.2.3.

Debian ships rules_cc 0.0.4, which calls use_cpp_toolchain(), a helper that Bazel
4.2.3's @bazel_tools does not have. The two files that use it are rewritten to
name the C++ toolchain type directly; everything else is linked unchanged.
"""

_FILES_USING_NEW_HELPER = [
    "cc/private/rules_impl/cc_flags_supplier.bzl",
    "cc/private/rules_impl/compiler_flag.bzl",
]

def _debian_rules_cc_impl(ctx):
    source = ctx.path(ctx.attr.path)
    if not source.exists:
        fail("rules_cc not found at %s: install Debian's bazel-rules-cc" % ctx.attr.path)
    result = ctx.execute(["cp", "-R", str(source) + "/.", "."])
    if result.return_code != 0:
        fail("copying rules_cc failed: " + result.stderr)
    for name in _FILES_USING_NEW_HELPER:
        text = ctx.read(name)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        ctx.file(name, text, legacy_utf8 = False)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(default = "/usr/share/bazel/rules/cc")},
    local = True,
)
