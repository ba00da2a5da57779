"""Compares p4tc's P4Runtime descriptors with those of the `p4runtime` Python package
(the definitions p4runtime-shell and grpcio clients are built from).

Usage: compare_official.py OURS.bin
Every message, enum and service of the package must exist in ours with the same fields
(name, number, type, label, type name, oneof), values and methods; ours may add what later
P4Runtime versions added. Prints one line per difference and exits 1 when there is any.
"""
import sys

from google.protobuf import descriptor_pb2
import google.rpc.status_pb2
import p4.config.v1.p4info_pb2
import p4.config.v1.p4types_pb2
import p4.v1.p4data_pb2
import p4.v1.p4runtime_pb2


def flatten(fdp):
    out = {}

    def walk(prefix, messages, enums):
        for e in enums:
            out[prefix + e.name] = sorted((v.name, v.number) for v in e.value)
        for m in messages:
            name = prefix + m.name
            out[name] = sorted(
                (f.name, f.number, f.type, f.label, f.type_name.lstrip("."),
                 f.oneof_index if f.HasField("oneof_index") else -1)
                for f in m.field)
            walk(name + ".", m.nested_type, m.enum_type)

    walk(fdp.package + ".", fdp.message_type, fdp.enum_type)
    for s in fdp.service:
        out[fdp.package + "." + s.name] = sorted(
            (m.name, m.input_type.lstrip("."), m.output_type.lstrip("."),
             m.client_streaming, m.server_streaming) for m in s.method)
    return out


ours_set = descriptor_pb2.FileDescriptorSet()
with open(sys.argv[1], "rb") as f:
    ours_set.ParseFromString(f.read())
ours = {}
for fdp in ours_set.file:
    ours.update(flatten(fdp))

theirs = {}
for module in (p4.v1.p4runtime_pb2, p4.v1.p4data_pb2, p4.config.v1.p4info_pb2,
               p4.config.v1.p4types_pb2, google.rpc.status_pb2):
    fdp = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(fdp)
    theirs.update(flatten(fdp))

bad = 0
for name, items in sorted(theirs.items()):
    if name not in ours:
        print(f"missing: {name}")
        bad += 1
    elif set(items) - set(ours[name]):
        print(f"differs: {name}: {sorted(set(items) - set(ours[name]))}")
        bad += 1
print(f"compared {len(theirs)} definitions, {bad} differ")
sys.exit(1 if bad else 0)
