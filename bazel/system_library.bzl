"""Wraps a library installed from Debian packages as an ordinary Bazel repository.

Headers come from /usr/include (the compiler's default search path), so each
cc_library here only carries the link flags that pkg-config reports at fetch
time. A missing package fails the fetch with the package to install.
"""

def _system_library_impl(ctx):
    # Targets named "dir/sub:name" go into the package dir/sub, so that the
    # labels are the library's own upstream ones (Abseil's
    # //absl/functional:any_invocable); a plain "name" goes into `package`.
    packages = {}
    for target, spec in ctx.attr.targets.items():
        package, _, name = target.rpartition(":")
        if not package:
            package = ctx.attr.package
        debian_package, pkg_config_modules, extra_linkopts = spec.split("|")
        linkopts = []
        if pkg_config_modules:
            result = ctx.execute(["pkg-config", "--libs"] + pkg_config_modules.split(" "))
            if result.return_code != 0:
                fail("pkg-config could not find %s: install Debian's %s (%s)" %
                     (pkg_config_modules, debian_package, result.stderr))
            linkopts += result.stdout.strip().split(" ")
        if extra_linkopts:
            linkopts += extra_linkopts.split(" ")
        packages.setdefault(package, []).append("""
cc_library(
    name = "{name}",
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(name = name, linkopts = repr(linkopts)))
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)
    if "" not in packages:
        ctx.file("BUILD.bazel", "")
    for package, targets in packages.items():
        ctx.file(package + "/BUILD.bazel" if package else "BUILD.bazel",
                 'load("@rules_cc//cc:defs.bzl", "cc_library")\n' + "".join(targets))

system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        # "[package:]target" -> "debian-package|pkg-config modules|extra linkopts"
        "targets": attr.string_dict(mandatory = True),
        "package": attr.string(default = ""),
    },
    local = True,
)
