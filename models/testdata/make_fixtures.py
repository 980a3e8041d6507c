#!/usr/bin/env python3
"""Generates the fixture ONNX models and their manifests for samlad's tests.

Each fixture is a tiny graph with exactly the I/O contract of the real model
(input/output names, ranks, dtypes), so the ONNX Runtime backend is tested
end to end without downloaded weights. They are stand-ins, not the real models:

  features.onnx      DINOv2 contract: image [1,3,H,W] -> patch_tokens [1,N,C],
                     fixed 14x14 stride-14 filters (mean colour, gradients,
                     seeded random projections).
  upsampler.onnx     FeatUp JBU contract: image + features -> features_{2,4,8,16}x,
                     bilinear 2x per level plus an image-guided term.
  sam_encoder.onnx   SAM encoder contract: image [1,3,1024,1024] ->
                     image_embeddings [1,256,64,64] (16x16 average pool + 1x1 conv).
  sam_decoder.onnx   SAM decoder contract: embeddings + a batch of points ->
                     iou_predictions [B,3], low_res_masks [B,3,256,256]; the
                     mask is the region whose embedding is close to the
                     embedding under the prompt point, at three tolerances.
  bad_opset.onnx     features.onnx stamped with opset 99 (for refusal tests).

Run with Debian's python3-onnx and python3-numpy (apt), from the repo root:
    python3 models/testdata/make_fixtures.py
The output is deterministic; the files are committed so tests need no Python.
"""
import hashlib
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
FEAT_C = 16
PATCH = 14
SAM_MEAN = [123.675 / 255, 116.28 / 255, 103.53 / 255]
SAM_STD = [58.395 / 255, 57.12 / 255, 57.375 / 255]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def vinfo(name, shape):
    dims = [d if d >= 0 else None for d in shape]
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def save(graph, path, opset=OPSET):
    model = helper.make_model(
        graph,
        producer_name="samlad-fixtures",
        opset_imports=[helper.make_operatorsetid("", opset)],
    )
    model.ir_version = 8
    if opset == OPSET:
        onnx.checker.check_model(model)
    onnx.save(model, path)


def features_graph():
    rng = np.random.RandomState(14)
    w = np.zeros((FEAT_C, 3, PATCH, PATCH), np.float32)
    ramp = (np.arange(PATCH, dtype=np.float32) - (PATCH - 1) / 2) / (PATCH * PATCH)
    for c in range(3):
        w[c, c] = 1.0 / (PATCH * PATCH)  # mean colour
        w[3 + c, c] = ramp[None, :]  # horizontal gradient
        w[6 + c, c] = ramp[:, None]  # vertical gradient
    w[9:] = rng.randn(FEAT_C - 9, 3, PATCH, PATCH).astype(np.float32) / PATCH
    nodes = [
        helper.make_node("Conv", ["image", "w"], ["conv"], strides=[PATCH, PATCH]),
        helper.make_node("Reshape", ["conv", "flat_shape"], ["flat"]),
        helper.make_node("Transpose", ["flat"], ["patch_tokens"], perm=[0, 2, 1]),
    ]
    return helper.make_graph(
        nodes,
        "features_fixture",
        [vinfo("image", [1, 3, -1, -1])],
        [vinfo("patch_tokens", [1, -1, FEAT_C])],
        [const("w", w), const("flat_shape", np.array([1, FEAT_C, -1], np.int64))],
    )


def upsampler_graph():
    rng = np.random.RandomState(16)
    guide = (rng.randn(FEAT_C, 3, 1, 1) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["two"], value=const("v2", np.array([1, 1, 2, 2], np.float32))),
        helper.make_node("Constant", [], ["nc"], value=const("vnc", np.array([1, 3], np.int64))),
    ]
    inits = [const("guide", guide)]
    prev = "features"
    outputs = []
    for level, factor in enumerate([2, 4, 8, 16]):
        up, hw, size, g, gc, out = (f"{n}{level}" for n in ("up", "hw", "size", "g", "gc", "out"))
        out = f"features_{factor}x"
        nodes += [
            helper.make_node("Resize", [prev, "", "two"], [up], mode="linear"),
            helper.make_node("Shape", [up], [hw], start=2),
            helper.make_node("Concat", ["nc", hw], [size], axis=0),
            helper.make_node("Resize", ["image", "", "", size], [g], mode="linear"),
            helper.make_node("Conv", [g, "guide"], [gc]),
            helper.make_node("Add", [up, gc], [out]),
        ]
        outputs.append(vinfo(out, [1, FEAT_C, -1, -1]))
        prev = out
    return helper.make_graph(
        nodes,
        "upsampler_fixture",
        [vinfo("image", [1, 3, -1, -1]), vinfo("features", [1, FEAT_C, -1, -1])],
        outputs,
        inits,
    )


def sam_encoder_graph():
    rng = np.random.RandomState(256)
    w = np.zeros((256, 3, 1, 1), np.float32)
    w[:3, :, 0, 0] = np.eye(3)
    w[3:, :, 0, 0] = rng.randn(253, 3) * 0.02
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Conv", ["pooled", "w"], ["image_embeddings"]),
    ]
    return helper.make_graph(
        nodes,
        "sam_encoder_fixture",
        [vinfo("image", [1, 3, 1024, 1024])],
        [vinfo("image_embeddings", [1, 256, 64, 64])],
        [const("w", w)],
    )


def sam_decoder_graph():
    # logits_k(x) = (t_k - |E(x) - E(p)|^2) / s * (2*label - 1) at 64x64, resized
    # to 256x256; iou = mean(sigmoid(4*|logits|)), high for crisp masks.
    tol = np.array([0.5, 1.5, 3.0], np.float32).reshape(1, 3, 1, 1)
    nodes = [
        # point (x, y) in the 1024 frame -> grid_sample coordinates in [-1, 1]
        helper.make_node("Div", ["point_coords", "c512"], ["pc_half"]),
        helper.make_node("Sub", ["pc_half", "one"], ["grid_b"]),  # [B,1,2]
        helper.make_node("Unsqueeze", ["grid_b", "ax0"], ["grid"]),  # [1,B,1,2]
        helper.make_node("GridSample", ["image_embeddings", "grid"], ["vs"], align_corners=0),  # [1,256,B,1]
        helper.make_node("Reshape", ["vs", "shape_cb"], ["v_cb"]),  # [256,B]
        helper.make_node("Transpose", ["v_cb"], ["v"], perm=[1, 0]),  # [B,256]
        helper.make_node("Reshape", ["image_embeddings", "shape_cn"], ["e"]),  # [256,4096]
        helper.make_node("MatMul", ["v", "e"], ["dot"]),  # [B,4096]
        helper.make_node("ReduceSumSquare", ["e"], ["e2"], axes=[0], keepdims=1),  # [1,4096]
        helper.make_node("ReduceSumSquare", ["v"], ["v2"], axes=[1], keepdims=1),  # [B,1]
        helper.make_node("Mul", ["dot", "two"], ["dot2"]),
        helper.make_node("Sub", ["e2", "dot2"], ["d0"]),
        helper.make_node("Add", ["d0", "v2"], ["d"]),
        helper.make_node("Reshape", ["d", "shape_b1hw"], ["d4"]),  # [B,1,64,64]
        helper.make_node("Sub", ["tol", "d4"], ["margin"]),  # [B,3,64,64]
        helper.make_node("Div", ["margin", "scale"], ["lg"]),
        helper.make_node("Mul", ["point_labels", "two"], ["l2"]),
        helper.make_node("Sub", ["l2", "one"], ["sign"]),  # [B,1]
        helper.make_node("Unsqueeze", ["sign", "ax23"], ["sign4"]),  # [B,1,1,1]
        helper.make_node("Mul", ["lg", "sign4"], ["lg_signed"]),
        helper.make_node("Resize", ["lg_signed", "", "four"], ["low_res_masks"], mode="linear"),
        helper.make_node("Abs", ["low_res_masks"], ["absl"]),
        helper.make_node("Mul", ["absl", "four_s"], ["absl4"]),
        helper.make_node("Sigmoid", ["absl4"], ["conf"]),
        helper.make_node("ReduceMean", ["conf"], ["iou_predictions"], axes=[2, 3], keepdims=0),
    ]
    inits = [
        const("c512", np.array(512.0, np.float32)),
        const("one", np.array(1.0, np.float32)),
        const("two", np.array(2.0, np.float32)),
        const("four_s", np.array(4.0, np.float32)),
        const("ax0", np.array([0], np.int64)),
        const("ax23", np.array([2, 3], np.int64)),
        const("shape_cb", np.array([256, -1], np.int64)),
        const("shape_cn", np.array([256, 4096], np.int64)),
        const("shape_b1hw", np.array([-1, 1, 64, 64], np.int64)),
        const("tol", tol),
        const("scale", np.array(0.01, np.float32)),
        const("four", np.array([1, 1, 4, 4], np.float32)),
    ]
    return helper.make_graph(
        nodes,
        "sam_decoder_fixture",
        [
            vinfo("image_embeddings", [1, 256, 64, 64]),
            vinfo("point_coords", [-1, 1, 2]),
            vinfo("point_labels", [-1, 1]),
        ],
        [vinfo("iou_predictions", [-1, 3]), vinfo("low_res_masks", [-1, 3, 256, 256])],
        inits,
    )


def fmt_shape(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def write_manifest(name, kind, graph, opset=OPSET, mean=None, std=None, patch=0):
    onnx_file = name + ".onnx"
    path = os.path.join(OUT, onnx_file)
    save(graph, path, opset)
    data = open(path, "rb").read()
    lines = [
        "# Fixture model generated by make_fixtures.py: a stand-in with the real I/O contract.",
        f'kind = "{kind}"',
        f'file = "{onnx_file}"',
        f'sha256 = "{hashlib.sha256(data).hexdigest()}"',
        f"bytes = {len(data)}",
        f"opset = {opset}",
    ]
    if patch:
        lines.append(f"patch_size = {patch}")
    if mean:
        lines += ["", "[normalize]", f"mean = {mean}", f"std = {std}"]
    for section, values in (("inputs", graph.input), ("outputs", graph.output)):
        for v in values:
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
            lines += ["", f"[[{section}]]", f'name = "{v.name}"', f"shape = {fmt_shape(dims)}", 'dtype = "float32"']
    with open(os.path.join(OUT, name + ".toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{onnx_file}: {len(data)} bytes")


def main():
    write_manifest("features", "features", features_graph(), mean=IMAGENET_MEAN, std=IMAGENET_STD, patch=PATCH)
    write_manifest("upsampler", "upsampler", upsampler_graph(), mean=IMAGENET_MEAN, std=IMAGENET_STD)
    write_manifest("sam_encoder", "sam_encoder", sam_encoder_graph(), mean=SAM_MEAN, std=SAM_STD)
    write_manifest("sam_decoder", "sam_decoder", sam_decoder_graph())
    write_manifest("bad_opset", "features", features_graph(), opset=99, mean=IMAGENET_MEAN, std=IMAGENET_STD, patch=PATCH)


if __name__ == "__main__":
    main()
