"""py_proto_library, as upstream protobuf's protobuf.bzl names it.

Generates <name>_pb2.py files beside the .proto sources with the system protoc,
so `from <package> import <name>_pb2` works from the workspace root.
"""

def py_proto_library(name, srcs, deps = [], visibility = None, **kwargs):
    """A py_library of the Python modules protoc generates for `srcs`."""
    outs = [src[:-len(".proto")] + "_pb2.py" for src in srcs]
    native.genrule(
        name = name + "_genpy",
        srcs = srcs,
        outs = outs,
        cmd = " ".join([
            "$(location @com_google_protobuf//:protoc)",
            "--proto_path=.",
            "--proto_path=$(GENDIR)",
            "--python_out=$(GENDIR)",
        ] + ["$(location %s)" % src for src in srcs]),
        tools = ["@com_google_protobuf//:protoc"],
        visibility = ["//visibility:private"],
    )
    native.py_library(
        name = name,
        srcs = outs,
        deps = deps + ["@com_google_protobuf//:protobuf_python"],
        visibility = visibility,
        **kwargs
    )
