"""@boost under bzlmod: the labels WORKSPACE mode's @boost offers, as aliases.

BCR splits Boost into one module per library (@boost.asio//:boost.asio) and
OpenSSL into its own (@openssl//:ssl), while our BUILD files say @boost//:asio
and @boost//:asio_ssl (third_party/boost/BUILD.bazel.tpl). Rather than two
spellings of every label, MODULE.bazel declares this repository under the name
"boost". //tools:module_test checks _TARGETS against
third_party/bcr_modules.json.
"""

# Target name -> what it stands for, in the BCR modules MODULE.bazel pins.
_TARGETS = {
    "asio": ["@boost.asio//:boost.asio"],
    "asio_ssl": [
        "@boost.asio//:boost.asio",
        "@openssl//:ssl",
    ],
}

# As WORKSPACE mode's @boost//:asio (third_party/boost/BUILD.bazel.tpl): only
# the current executor model, for every user of //streams alike.
_DEFINES = ["BOOST_ASIO_NO_DEPRECATED"]

def _boost_repository_impl(rctx):
    rules = ['package(default_visibility = ["//visibility:public"])']
    for name in sorted(_TARGETS):
        rules.append("cc_library(\n    name = \"%s\",\n    defines = [%s],\n    deps = [%s],\n)" % (
            name,
            ", ".join(['"%s"' % define for define in _DEFINES]),
            ", ".join(['"%s"' % label for label in _TARGETS[name]]),
        ))
    rctx.file("BUILD.bazel", "\n\n".join(rules) + "\n")

boost_repository = repository_rule(implementation = _boost_repository_impl)
