"""Writes a samlad model manifest (TOML) for an exported ONNX file."""
import hashlib
import os

import onnx


def write(path_onnx, kind, mean=None, std=None, patch_size=0, note=""):
    model = onnx.load(path_onnx, load_external_data=False)
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise SystemExit(f"{path_onnx}: has external data; samlad needs a single-file model (< 2 GB)")
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    data = open(path_onnx, "rb").read()
    lines = [
        f"# {note}" if note else "# Exported by models/export.",
        f'kind = "{kind}"',
        f'file = "{os.path.basename(path_onnx)}"',
        f'sha256 = "{hashlib.sha256(data).hexdigest()}"',
        f"bytes = {len(data)}",
        f"opset = {opset}",
    ]
    if patch_size:
        lines.append(f"patch_size = {patch_size}")
    if mean is not None:
        lines += ["", "[normalize]", f"mean = {list(map(float, mean))}", f"std = {list(map(float, std))}"]
    initializers = {t.name for t in model.graph.initializer}
    for section, values in (("inputs", [v for v in model.graph.input if v.name not in initializers]),
                            ("outputs", model.graph.output)):
        for v in values:
            if v.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
                raise SystemExit(f"{path_onnx}: {v.name} is not float32")
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
            lines += ["", f"[[{section}]]", f'name = "{v.name}"', f"shape = {dims}", 'dtype = "float32"']
    out = os.path.splitext(path_onnx)[0] + ".toml"
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path_onnx} ({len(data)} bytes) and {out}")
