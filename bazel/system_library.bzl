"""Wraps a library installed from Debian packages as an ordinary Bazel repository.

Headers come from /usr/include (the compiler's default search path), so each
cc_library here only carries the link flags that pkg-config reports at fetch
time. A missing package fails the fetch with the package to install.
"""

def _system_library_impl(ctx):
    targets = []
    for target, spec in ctx.attr.targets.items():
        package, pkg_config_modules, extra_linkopts = spec.split("|")
        linkopts = []
        if pkg_config_modules:
            result = ctx.execute(["pkg-config", "--libs"] + pkg_config_modules.split(" "))
            if result.return_code != 0:
                fail("pkg-config could not find %s: install Debian's %s (%s)" %
                     (pkg_config_modules, package, result.stderr))
            linkopts += result.stdout.strip().split(" ")
        if extra_linkopts:
            linkopts += extra_linkopts.split(" ")
        targets.append("""
cc_library(
    name = "{name}",
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(name = target, linkopts = repr(linkopts)))
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)
    ctx.file(ctx.attr.package + "/BUILD.bazel" if ctx.attr.package else "BUILD.bazel",
             'load("@rules_cc//cc:defs.bzl", "cc_library")\n' + "".join(targets))
    if ctx.attr.package:
        ctx.file("BUILD.bazel", "")

system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        # target name -> "debian-package|pkg-config modules|extra linkopts"
        "targets": attr.string_dict(mandatory = True),
        "package": attr.string(default = ""),
    },
    local = True,
)
