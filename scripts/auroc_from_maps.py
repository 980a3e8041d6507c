#!/usr/bin/env python3
"""Image AUROC from anomaly maps' maxima, independently of samlad.

Scores every test image by the maximum of its float32 TIFF anomaly map, as
the official MVTec LOCO AD evaluation does, and computes the image AUROC of
each anomaly group against the good test images with scikit-learn.

    auroc_from_maps.py MAPS_DIR DATA_ROOT

MAPS_DIR holds <category>/test/<type>/<name>.tiff (samlab eval --maps);
DATA_ROOT holds the categories in the MVTec LOCO AD or MVTec AD layout; the
test folders give the labels (good against every other folder: "all"; in
the LOCO layout also logical_anomalies and structural_anomalies each
against good). Prints JSON: {category: {"all": auroc, "logical": auroc,
"structural": auroc}} (0..1).
Debian: apt install python3-sklearn python3-tifffile.
"""
import json
import os
import sys

import numpy as np
import tifffile
from sklearn.metrics import roc_auc_score


def main(maps_dir, data_root):
    out = {}
    for cat in sorted(os.listdir(data_root)):
        test = os.path.join(data_root, cat, "test")
        if not os.path.isdir(test):
            continue
        scores = {}
        for typ in sorted(os.listdir(test)):
            vals = []
            for name in sorted(os.listdir(os.path.join(test, typ))):
                stem = os.path.splitext(name)[0]
                path = os.path.join(maps_dir, cat, "test", typ, stem + ".tiff")
                vals.append(float(np.max(tifffile.imread(path))))
            scores[typ] = vals
        good = scores.get("good", [])
        res = {}
        bad = [v for t, vals in scores.items() if t != "good" for v in vals]
        if good and bad:
            res["all"] = float(roc_auc_score([0] * len(good) + [1] * len(bad), good + bad))
        for group in ("logical", "structural"):
            bad = scores.get(group + "_anomalies", [])
            if good and bad:
                y = [0] * len(good) + [1] * len(bad)
                res[group] = float(roc_auc_score(y, good + bad))
        out[cat] = res
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
