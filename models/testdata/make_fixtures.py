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
  sam_decoder.onnx   the stock segment-anything decoder contract (SamOnnxModel,
                     multimask): image_embeddings, point_coords [B,N,2],
                     point_labels [B,N], mask_input, has_mask_input,
                     orig_im_size -> masks, iou_predictions [B,4],
                     low_res_masks [B,4,256,256]. The batch B is dynamic here
                     (the stock export fixes it at 1) so that batching is
                     tested too. Only each prompt's first point is used (the
                     rest is SAM's padding point); the mask is the region
                     around it whose embedding is close to the one under the
                     point, at four tolerances and radii (mask 0 stands for
                     the single-mask token). "masks" is low_res_masks again,
                     not resized to orig_im_size: a stand-in.
  refused/bad_opset.onnx
                     features.onnx stamped with opset 99 (for refusal tests).
  ../builtin/builtin_features.onnx
                     not a stand-in: the built-in Go feature extractor
                     (infer/builtin/features.go, "hc40.v1") as an ONNX graph,
                     image [1,3,H,W] in [0,1] -> patch_tokens [1,N,40], stride 8,
                     so the default feature stage can run on TensorRT or CUDA.

Run with Debian's python3-onnx and python3-numpy (apt), from the repo root:
    python3 models/testdata/make_fixtures.py
The output is deterministic; the files are committed so tests need no Python.
"""
import hashlib
import itertools
import math
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
    # At 64x64: d_col(x) = |E(x) - E(p)|^2, d_sp(x) = squared cell distance to
    # the point p; logits_k(x) = (t_k (1 - d_sp / r_k^2) - d_col) / s * (2*label - 1):
    # similar colour within radius r_k, for three (t_k, r_k) like SAM's three
    # granularities; resized to 256x256. iou = mean(sigmoid(4*|logits|)),
    # high for crisp masks.
    tol = np.array([1.5, 0.5, 1.5, 3.0], np.float32).reshape(1, 4, 1, 1)
    radius2 = (np.array([12.0, 6.0, 12.0, 24.0], np.float32) ** 2).reshape(1, 4, 1, 1)
    cells = np.arange(64 * 64)
    grid_xy = np.stack([cells % 64, cells // 64]).astype(np.float32)  # [2,4096]
    nodes = [
        # each prompt's first point; the others (SAM's padding point) are ignored
        helper.make_node("Slice", ["point_coords", "s0", "s1", "s_ax1"], ["pc"]),  # [B,1,2]
        helper.make_node("Slice", ["point_labels", "s0", "s1", "s_ax1"], ["pl"]),  # [B,1]
        # point (x, y) in the 1024 frame -> grid_sample coordinates in [-1, 1]
        helper.make_node("Div", ["pc", "c512"], ["pc_half"]),
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
        # point in cell units: (x / 16 - 0.5, y / 16 - 0.5), one column per axis
        helper.make_node("Reshape", ["pc", "shape_b2"], ["pc2"]),  # [B,2]
        helper.make_node("Div", ["pc2", "c16"], ["pc_cells0"]),
        helper.make_node("Sub", ["pc_cells0", "half"], ["pc_cells"]),
        helper.make_node("Slice", ["pc_cells", "s0", "s1", "s_ax1"], ["px"]),  # [B,1]
        helper.make_node("Slice", ["pc_cells", "s1", "s2", "s_ax1"], ["py"]),
        helper.make_node("Slice", ["grid_xy", "s0", "s1", "s_ax0"], ["gx"]),  # [1,4096]
        helper.make_node("Slice", ["grid_xy", "s1", "s2", "s_ax0"], ["gy"]),
        helper.make_node("Sub", ["gx", "px"], ["dx"]),  # [B,4096]
        helper.make_node("Sub", ["gy", "py"], ["dy"]),
        helper.make_node("Mul", ["dx", "dx"], ["dx2"]),
        helper.make_node("Mul", ["dy", "dy"], ["dy2"]),
        helper.make_node("Add", ["dx2", "dy2"], ["dsp"]),
        helper.make_node("Reshape", ["dsp", "shape_b1hw"], ["dsp4"]),  # [B,1,64,64]
        helper.make_node("Div", ["dsp4", "radius2"], ["dsp_r"]),  # [B,3,64,64]
        helper.make_node("Sub", ["one", "dsp_r"], ["inside"]),
        helper.make_node("Mul", ["tol", "inside"], ["tol_sp"]),
        helper.make_node("Sub", ["tol_sp", "d4"], ["margin"]),  # [B,3,64,64]
        helper.make_node("Div", ["margin", "scale"], ["lg"]),
        helper.make_node("Mul", ["pl", "two"], ["l2"]),
        helper.make_node("Sub", ["l2", "one"], ["sign"]),  # [B,1]
        helper.make_node("Unsqueeze", ["sign", "ax23"], ["sign4"]),  # [B,1,1,1]
        helper.make_node("Mul", ["lg", "sign4"], ["lg_signed"]),
        helper.make_node("Resize", ["lg_signed", "", "four"], ["low_res_masks"], mode="linear"),
        helper.make_node("Abs", ["low_res_masks"], ["absl"]),
        helper.make_node("Mul", ["absl", "four_s"], ["absl4"]),
        helper.make_node("Sigmoid", ["absl4"], ["conf"]),
        helper.make_node("ReduceMean", ["conf"], ["iou_predictions"], axes=[2, 3], keepdims=0),
        helper.make_node("Identity", ["low_res_masks"], ["masks"]),
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
        const("radius2", radius2),
        const("grid_xy", grid_xy),
        const("c16", np.array(16.0, np.float32)),
        const("half", np.array(0.5, np.float32)),
        const("shape_b2", np.array([-1, 2], np.int64)),
        const("s0", np.array([0], np.int64)),
        const("s1", np.array([1], np.int64)),
        const("s2", np.array([2], np.int64)),
        const("s_ax0", np.array([0], np.int64)),
        const("s_ax1", np.array([1], np.int64)),
        const("scale", np.array(0.01, np.float32)),
        const("four", np.array([1, 1, 4, 4], np.float32)),
    ]
    return helper.make_graph(
        nodes,
        "sam_decoder_fixture",
        [
            vinfo("image_embeddings", [1, 256, 64, 64]),
            vinfo("point_coords", [-1, -1, 2]),
            vinfo("point_labels", [-1, -1]),
            vinfo("mask_input", [1, 1, 256, 256]),
            vinfo("has_mask_input", [1]),
            vinfo("orig_im_size", [2]),
        ],
        [vinfo("masks", [-1, 4, 256, 256]), vinfo("iou_predictions", [-1, 4]), vinfo("low_res_masks", [-1, 4, 256, 256])],
        inits,
    )


class GraphBuilder:
    """Appends nodes and constants with unique names."""

    def __init__(self):
        self.nodes, self.inits, self.ids = [], [], itertools.count()

    def op(self, op_type, *inputs, **attrs):
        out = f"{op_type.lower()}_{next(self.ids)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def c(self, arr, dtype=np.float32):
        name = f"c_{next(self.ids)}"
        self.inits.append(const(name, np.asarray(arr, dtype)))
        return name


# Constants of infer/builtin/features.go (featureVersion "hc40.v1").
BUILTIN_STRIDE = 8
BUILTIN_HOG_EPS = 0.01


def gauss_kernel(sigma):
    r = int(math.ceil(3 * sigma))
    k = np.exp(-np.arange(-r, r + 1, dtype=np.float64) ** 2 / (2 * sigma * sigma))
    return (k / k.sum()).astype(np.float32)


def builtin_features_graph():
    """The channel formulas documented on builtin.Features, op for op."""
    g = GraphBuilder()
    opp_w = np.array([[1 / 3, 1 / 3, 1 / 3], [1, -1, 0], [0.5, 0.5, -1]], np.float32).reshape(3, 3, 1, 1)
    opp = g.op("Conv", "image", g.c(opp_w))  # I, RG, BY
    intensity = g.op("Slice", opp, g.c([0], np.int64), g.c([1], np.int64), g.c([1], np.int64))

    def pad_edge(x, r):
        return g.op("Pad", x, g.c([0, 0, r, r, 0, 0, r, r], np.int64), mode="edge")

    def blur(x, sigma):
        k = gauss_kernel(sigma)
        r = len(k) // 2
        p = pad_edge(x, r)
        return g.op("Conv", g.op("Conv", p, g.c(k.reshape(1, 1, 1, -1))), g.c(k.reshape(1, 1, -1, 1)))

    g1, g2, g4 = blur(intensity, 1), blur(intensity, 2), blur(intensity, 4)

    sob = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8
    p1 = pad_edge(intensity, 1)
    fgx = g.op("Conv", p1, g.c(sob.reshape(1, 1, 3, 3)))
    fgy = g.op("Conv", p1, g.c(sob.T.reshape(1, 1, 3, 3)))
    cd = np.zeros((5, 5), np.float32)
    cd[2, 0], cd[2, 4] = -0.25, 0.25
    p2 = pad_edge(g2, 2)
    cgx = g.op("Conv", p2, g.c(cd.reshape(1, 1, 5, 5)))
    cgy = g.op("Conv", p2, g.c(cd.T.reshape(1, 1, 5, 5)))

    angles = 2 * np.arange(8) * np.pi / 8
    bins = np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32).reshape(8, 2, 1, 1)

    def orientations(gx, gy):
        gx2, gy2 = g.op("Mul", gx, gx), g.op("Mul", gy, gy)
        m2 = g.op("Add", gx2, gy2)
        tiny = g.c(1e-12)
        valid = g.op("Cast", g.op("Not", g.op("Less", m2, tiny)), to=TensorProto.FLOAT)
        safe = g.op("Max", m2, tiny)
        c2 = g.op("Div", g.op("Sub", gx2, gy2), safe)
        s2 = g.op("Div", g.op("Mul", g.c(2.0), g.op("Mul", gx, gy)), safe)
        d = g.op("Relu", g.op("Conv", g.op("Concat", c2, s2, axis=1), g.c(bins)))
        m = g.op("Mul", g.op("Sqrt", m2), valid)
        return g.op("Mul", g.op("Mul", d, d), m), m

    fine_r, fine_m = orientations(fgx, fgy)
    coarse_r, coarse_m = orientations(cgx, cgy)

    def mean(x, size):
        p = (size - BUILTIN_STRIDE) // 2
        return g.op("AveragePool", x, kernel_shape=[size, size], strides=[BUILTIN_STRIDE] * 2,
                    pads=[p, p, p, p], count_include_pad=0)

    def scale(x, k):
        return g.op("Mul", x, g.c(k))

    def hog(r, size):
        h = g.op("Relu", mean(r, size))
        ss = g.op("ReduceSumSquare", h, axes=[1], keepdims=1)
        return g.op("Div", h, g.op("Sqrt", g.op("Add", ss, g.c(BUILTIN_HOG_EPS ** 2))))

    m16 = mean(opp, 16)
    var = g.op("Relu", g.op("Sub", mean(g.op("Mul", opp, opp), 16), g.op("Mul", m16, m16)))
    absdiff = lambda a, b: g.op("Abs", g.op("Sub", a, b))
    channels = [
        mean(opp, 8),  # 0-2
        mean(opp, 24),  # 3-5
        scale(g.op("Sqrt", var), 2.0),  # 6-8
        hog(fine_r, 8),  # 9-16
        hog(fine_r, 16),  # 17-24
        hog(coarse_r, 32),  # 25-32
        scale(mean(fine_m, 16), 8.0),  # 33
        scale(mean(coarse_m, 32), 8.0),  # 34
        scale(mean(absdiff(intensity, g1), 16), 8.0),  # 35
        scale(mean(absdiff(g1, g2), 16), 8.0),  # 36
        scale(mean(absdiff(g2, g4), 16), 8.0),  # 37
        scale(mean(g.op("Sub", g1, g4), 16), 4.0),  # 38
        scale(mean(g.op("Sub", intensity, g4), 8), 4.0),  # 39
    ]
    fmap = g.op("Concat", *channels, axis=1)
    flat = g.op("Reshape", fmap, g.c([1, 40, -1], np.int64))
    g.nodes.append(helper.make_node("Transpose", [flat], ["patch_tokens"], perm=[0, 2, 1]))
    return helper.make_graph(
        g.nodes,
        "builtin_features_hc40_v1",
        [vinfo("image", [1, 3, -1, -1])],
        [vinfo("patch_tokens", [1, -1, 40])],
        g.inits,
    )


def fmt_shape(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def write_manifest(name, kind, graph, opset=OPSET, mean=None, std=None, patch=0, subdir=".",
                   note="Fixture model generated by make_fixtures.py: a stand-in with the real I/O contract."):
    onnx_file = name + ".onnx"
    out = os.path.normpath(os.path.join(OUT, subdir))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, onnx_file)
    save(graph, path, opset)
    data = open(path, "rb").read()
    lines = [
        "# " + note,
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
    with open(os.path.join(out, name + ".toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{onnx_file}: {len(data)} bytes")


def main():
    write_manifest("features", "features", features_graph(), mean=IMAGENET_MEAN, std=IMAGENET_STD, patch=PATCH)
    write_manifest("upsampler", "upsampler", upsampler_graph(), mean=IMAGENET_MEAN, std=IMAGENET_STD)
    write_manifest("sam_encoder", "sam_encoder", sam_encoder_graph(), mean=SAM_MEAN, std=SAM_STD)
    write_manifest("sam_decoder", "sam_decoder", sam_decoder_graph())
    write_manifest("bad_opset", "features", features_graph(), opset=99, mean=IMAGENET_MEAN, std=IMAGENET_STD, patch=PATCH,
                   subdir="refused")
    write_manifest("builtin_features", "features", builtin_features_graph(), patch=BUILTIN_STRIDE, subdir="../builtin",
                   note="The built-in feature extractor (infer/builtin, hc40.v1) as ONNX, from make_fixtures.py.")


if __name__ == "__main__":
    main()
