#!/usr/bin/env python3
"""Exports DINOv2 ViT-S/14 (features) and the FeatUp JBU stack trained on it
(upsampler) to ONNX, with samlad manifests.

Both come from FeatUp's torch.hub entry "dinov2" (use_norm=True), so the
features carry FeatUp's ChannelNorm (a LayerNorm over channels), which is
what its JBU was trained on. FeatUp's CUDA AdaptiveConv and adaptive average
pooling are replaced by exact, exportable equivalents (slices and constant
pooling matrices).

Static shapes (best for TensorRT): one input size per export. FeatUp's
DINOv2 wrapper hard-codes 16x16 tokens, so the JBU is trained at 224; the
features model alone can be exported at 448 or 518 (37x37, DINOv2's native
positional grid) with --size, but then use no FeatUp upsampler (samlad falls
back to its built-in JBU).

    python export_dinov2_featup.py --out ../ --size 224 --max-factor 16

It runs on a CPU-only workstation. FeatUp is not pip-installed: torch.hub
fetches its pinned commit, whose CUDA extension (adaptive_conv_cuda, built
only by its setup.py) is never used here and is stubbed, and whose
get_featurizer moves the featurizer to CUDA, which is turned into a no-op on
a machine without one. DINOv2, which FeatUp loads from torch.hub by name,
is redirected to a pinned commit, and xformers is disabled (DINOv2's
memory-efficient attention needs it on CUDA only).
"""
import argparse
import os
import sys
import types

os.environ.setdefault("XFORMERS_DISABLED", "1")  # before DINOv2's layers are imported

import torch
import torch.nn.functional as F

import manifest

FEATUP_REF = "mhamilton723/FeatUp:0cda3422d94874c221a13fa519277aa718b67358"
DINOV2_REF = "facebookresearch/dinov2:12592a9bdfea0a6e4ee4767cd5a8d3195c0e3509"


def pin_and_stub():
    """Pins DINOv2's hub commit, stubs FeatUp's compiled CUDA/C++ extension
    (AdaptiveConv is replaced below) and keeps .cuda() from failing on CPU."""
    hub_load = torch.hub.load

    def load(repo, *args, **kwargs):
        if repo.split(":")[0] == "facebookresearch/dinov2":
            repo = DINOV2_REF
            kwargs.setdefault("trust_repo", True)
            kwargs.setdefault("skip_validation", True)
        return hub_load(repo, *args, **kwargs)

    torch.hub.load = load
    for name in ("featup.adaptive_conv_cuda.cuda_impl", "featup.adaptive_conv_cuda.cpp_impl"):
        sys.modules.setdefault(name, types.ModuleType(name))
    if not torch.cuda.is_available():
        torch.nn.Module.cuda = lambda self, device=None: self
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
OPSET = 17


class Features(torch.nn.Module):
    """image [1,3,S,S] (ImageNet-normalised) -> patch_tokens [1,(S/14)^2,384]."""

    def __init__(self, dinov2, channel_norm):
        super().__init__()
        self.dinov2, self.norm = dinov2, channel_norm

    def forward(self, image):
        tokens = self.dinov2.forward_features(image)["x_norm_patchtokens"]
        return self.norm(tokens) if self.norm is not None else tokens


def pool_matrix(n_in, n_out):
    """Rows average the input ranges of torch's adaptive_avg_pool (exact)."""
    m = torch.zeros(n_out, n_in)
    for i in range(n_out):
        lo, hi = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def adaptive_conv(hr_padded, kernel, d):
    """FeatUp's AdaptiveConv: out[b,c,h,w] = sum_ij in[b,c,h+i,w+j] * k[b,h,w,i,j]."""
    _, _, hp, wp = hr_padded.shape
    h, w = hp - d + 1, wp - d + 1
    out = 0
    for i in range(d):
        for j in range(d):
            out = out + hr_padded[:, :, i:i + h, j:j + w] * kernel[:, None, :, :, i, j]
    return out


def spatial_kernel(self):
    """FeatUp 0cda342's JBULearnedRange.get_spatial_kernel, computed here so
    that the export does not depend on that method's signature (it takes a
    device at 0cda342 and changed since)."""
    d = self.diameter
    dist = torch.linspace(-1, 1, d)
    x, y = torch.meshgrid(dist, dist, indexing="ij")
    patch = torch.stack([x, y])
    return torch.exp(-patch.square().sum(0) / (2 * self.sigma_spatial ** 2)).reshape(1, d * d, 1, 1)


def jbu_forward(self, source, guidance):
    """JBULearnedRange.forward with AdaptiveConv and Unfold as slices."""
    _, _, gh, gw = guidance.shape
    d, r = self.diameter, self.radius
    proj = self.range_proj(guidance)
    padded = F.pad(proj, [r] * 4, mode="reflect")
    queries = torch.stack([padded[:, :, i:i + gh, j:j + gw] for i in range(d) for j in range(d)], 2)
    temp = self.range_temp.exp().clamp_min(1e-4).clamp_max(1e4)
    range_kernel = F.softmax(temp * (queries * proj[:, :, None]).sum(1), dim=1)
    kernel = range_kernel * spatial_kernel(self)
    kernel = kernel / kernel.sum(1, keepdim=True).clamp(1e-7)
    kernel = kernel + 0.1 * self.fixup_proj(torch.cat([kernel, guidance], dim=1))
    kernel = kernel.permute(0, 2, 3, 1).reshape(-1, gh, gw, d, d)
    hr = F.interpolate(source, (gh, gw), mode="bicubic", align_corners=False)
    return adaptive_conv(F.pad(hr, [r] * 4, mode="reflect"), kernel, d)


class Upsampler(torch.nn.Module):
    """image [1,3,S,S] + features [1,C,h,w] -> features_2x .. features_{max}x."""

    def __init__(self, stack, size, grid, max_factor):
        super().__init__()
        self.stack, self.levels = stack, [stack.up1, stack.up2, stack.up3, stack.up4]
        self.n = {16: 4, 8: 3, 4: 2, 2: 1}[max_factor]
        for k in range(self.n):
            out = grid * 2 ** (k + 1)
            self.register_buffer(f"pool{k}", pool_matrix(size, out))

    def forward(self, image, features):
        outs, source = [], features
        for k in range(self.n):
            p = getattr(self, f"pool{k}")
            guidance = p @ image @ p.T  # adaptive_avg_pool2d(image, 2h x 2w)
            source = self.levels[k](source, guidance)
            outs.append(source)
        if self.n == 4:  # JBUStack applies its fixup only to the 16x output
            outs[3] = self.stack.fixup_proj(outs[3]) * 0.1 + outs[3]
        return tuple(outs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="..", help="models directory")
    ap.add_argument("--size", type=int, default=224, help="square input side, a multiple of 14")
    ap.add_argument("--max-factor", type=int, default=16, choices=[2, 4, 8, 16])
    ap.add_argument("--no-upsampler", action="store_true", help="export the features model only")
    args = ap.parse_args()
    if args.size % 14:
        raise SystemExit("--size must be a multiple of 14")
    grid = args.size // 14
    if not args.no_upsampler and grid != 16:
        raise SystemExit("FeatUp's DINOv2 JBU is trained on 16x16 tokens: use --size 224 or --no-upsampler")

    pin_and_stub()
    # The hub puts FeatUp's checkout on sys.path; patch its JBU before the
    # entry point builds the model. FeatUp's hub entry itself loads
    # facebookresearch/dinov2's dinov2_vits14 (pinned by pin_and_stub).
    repo_dir = torch.hub._get_cache_or_reload(FEATUP_REF, force_reload=False, trust_repo=True,
                                               calling_fn="load", skip_validation=True)
    sys.path.insert(0, repo_dir)
    from featup.upsamplers import JBULearnedRange
    JBULearnedRange.forward = jbu_forward
    hub = torch.hub.load(repo_dir, "dinov2", source="local", use_norm=True).eval().cpu()
    dinov2, channel_norm = hub.model[0].model, hub.model[1].norm
    image = torch.rand(1, 3, args.size, args.size)
    feat_path = os.path.join(args.out, f"dinov2_vits14_{args.size}.onnx")
    with torch.no_grad():
        feats = Features(dinov2, channel_norm).eval()
        torch.onnx.export(feats, (image,), feat_path, input_names=["image"], output_names=["patch_tokens"],
                          opset_version=OPSET, do_constant_folding=True)
        manifest.write(feat_path, "features", IMAGENET_MEAN, IMAGENET_STD, patch_size=14,
                       note=f"DINOv2 ViT-S/14 + FeatUp ChannelNorm at {args.size}x{args.size} ({FEATUP_REF})")
        if args.no_upsampler:
            return
        tokens = feats(image)
        lowres = tokens.transpose(1, 2).reshape(1, -1, grid, grid)
        up = Upsampler(hub.upsampler, args.size, grid, args.max_factor).eval()
        names = [f"features_{2 ** (k + 1)}x" for k in range(up.n)]
        up_path = os.path.join(args.out, f"featup_jbu_dinov2_{args.size}.onnx")
        torch.onnx.export(up, (image, lowres), up_path, input_names=["image", "features"], output_names=names,
                          opset_version=OPSET, do_constant_folding=True)
        manifest.write(up_path, "upsampler", IMAGENET_MEAN, IMAGENET_STD,
                       note=f"FeatUp JBU stack for DINOv2 ViT-S/14 ({FEATUP_REF})")


if __name__ == "__main__":
    main()
