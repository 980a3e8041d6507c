#!/usr/bin/env python3
"""Exports a SAM-compatible image encoder and prompt/mask decoder to ONNX with
samlad's contract and manifests:

  encoder  image [1,3,1024,1024] (normalised, zero-padded: samlad does both)
           -> image_embeddings [1,256,64,64]
  decoder  image_embeddings, point_coords [B,1,2] (x,y in the 1024 frame),
           point_labels [B,1] -> iou_predictions [B,3], low_res_masks [B,3,256,256]

B is fixed (--batch, = models.points_per_batch): static shapes let TensorRT
build one engine. The decoder adds SAM's padding point (label -1) itself, as
SamPredictor does for point-only prompts, and returns the three multimask
outputs, as SamAutomaticMaskGenerator uses them.

    python export_sam.py --model sam_vit_b --checkpoint sam_vit_b_01ec64.pth --out ..
    python export_sam.py --model mobile_sam --checkpoint mobile_sam.pt --out ..
    python export_sam.py --model efficient_sam_vitt --checkpoint efficient_sam_vitt.pt --out ..
"""
import argparse
import os

import torch

import manifest

OPSET = 17
SAM_MEAN = [123.675 / 255, 116.28 / 255, 103.53 / 255]
SAM_STD = [58.395 / 255, 57.12 / 255, 57.375 / 255]


class SamDecoder(torch.nn.Module):
    """segment_anything's SamOnnxModel prompt path, batched over points."""

    def __init__(self, onnx_model):
        super().__init__()
        self.m = onnx_model

    def forward(self, image_embeddings, point_coords, point_labels):
        b = point_coords.shape[0]
        coords = torch.cat([point_coords, torch.zeros(b, 1, 2)], dim=1)
        labels = torch.cat([point_labels, -torch.ones(b, 1)], dim=1)
        sparse = self.m._embed_points(coords, labels)
        dense = self.m._embed_masks(torch.zeros(1, 1, 256, 256), torch.zeros(1))
        masks, iou = self.m.model.mask_decoder.predict_masks(
            image_embeddings=image_embeddings,
            image_pe=self.m.model.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
        )
        return iou[:, 1:], masks[:, 1:]  # multimask outputs, as MaskDecoder(multimask_output=True)


class EfficientSamEncoder(torch.nn.Module):
    """EfficientSAM normalises inside; samlad feeds [0,1] (manifest without normalize)."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, image):
        return self.m.get_image_embeddings(image)


class EfficientSamDecoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, image_embeddings, point_coords, point_labels):
        b = point_coords.shape[0]
        masks, iou = self.m.predict_masks(image_embeddings, point_coords.reshape(1, b, 1, 2),
                                          point_labels.reshape(1, b, 1), multimask_output=True,
                                          input_h=1024, input_w=1024)
        return iou.reshape(b, 3), masks.reshape(b, 3, 256, 256)


def load(name, checkpoint):
    if name in ("sam_vit_b", "sam_vit_l", "sam_vit_h"):
        from segment_anything import sam_model_registry
        from segment_anything.utils.onnx import SamOnnxModel
        sam = sam_model_registry[name[4:]](checkpoint=checkpoint).eval()
        return sam.image_encoder, SamDecoder(SamOnnxModel(sam, return_single_mask=False)), (SAM_MEAN, SAM_STD)
    if name == "mobile_sam":
        from mobile_sam import sam_model_registry
        from mobile_sam.utils.onnx import SamOnnxModel
        sam = sam_model_registry["vit_t"](checkpoint=checkpoint).eval()
        return sam.image_encoder, SamDecoder(SamOnnxModel(sam, return_single_mask=False)), (SAM_MEAN, SAM_STD)
    if name in ("efficient_sam_vitt", "efficient_sam_vits"):
        from efficient_sam.efficient_sam import build_efficient_sam
        dim, heads = (192, 3) if name.endswith("vitt") else (384, 6)  # as build_efficient_sam_vit{t,s}
        model = build_efficient_sam(dim, heads, checkpoint=checkpoint).eval()
        return EfficientSamEncoder(model), EfficientSamDecoder(model), (None, None)
    raise SystemExit(f"unknown --model {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="sam_vit_b",
                    choices=["sam_vit_b", "sam_vit_l", "sam_vit_h", "mobile_sam", "efficient_sam_vitt", "efficient_sam_vits"])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--batch", type=int, default=64, help="points per decoder run (models.points_per_batch)")
    ap.add_argument("--out", default="..", help="models directory")
    args = ap.parse_args()
    encoder, decoder, (mean, std) = load(args.model, args.checkpoint)
    image = torch.zeros(1, 3, 1024, 1024)
    enc_path = os.path.join(args.out, f"{args.model}_encoder.onnx")
    dec_path = os.path.join(args.out, f"{args.model}_decoder_b{args.batch}.onnx")
    with torch.no_grad():
        torch.onnx.export(encoder, (image,), enc_path, input_names=["image"], output_names=["image_embeddings"],
                          opset_version=OPSET, do_constant_folding=True)
        emb = encoder(image)
        coords = torch.full((args.batch, 1, 2), 512.0)
        labels = torch.ones(args.batch, 1)
        torch.onnx.export(decoder, (emb, coords, labels), dec_path,
                          input_names=["image_embeddings", "point_coords", "point_labels"],
                          output_names=["iou_predictions", "low_res_masks"],
                          opset_version=OPSET, do_constant_folding=True)
    note = f"{args.model} from {os.path.basename(args.checkpoint)}"
    manifest.write(enc_path, "sam_encoder", mean, std, note=note + " (image encoder)")
    manifest.write(dec_path, "sam_decoder", note=note + f" (prompt/mask decoder, batch {args.batch})")


if __name__ == "__main__":
    main()
