"""Serving the layout model: everything inference reads from a model directory.

* :mod:`~extractors.serving.model_dir`: :class:`ModelDir` (one saved model directory, read:
  manifest, label map, calibration, router, learned layouts), the registry's live pointer and
  which model serves (:func:`default_model_dir`);
* :mod:`~extractors.serving.load`: the weights, loaded and int8-quantised;
* :mod:`~extractors.serving.features`: words and boxes -> tokens and windows, and back;
* :mod:`~extractors.serving.calibration`: the confidence calibration applied;
* :mod:`~extractors.serving.router`: layout fingerprints and a routed model's choice;
* :mod:`~extractors.serving.anchors`: a learned layout's captions applied to a document.

``extractors.inference.LayoutExtractor`` reads documents with them. Training imports this
package (to encode documents as serving does) and writes the model directories it reads; this
package never imports ``training``.
"""

from extractors.serving.calibration import Calibration
from extractors.serving.model_dir import (
    DEFAULT_MODEL_DIR, ModelDir, RouterSpec, default_model_dir, general_model_dir, live_model_path)

__all__ = ["Calibration", "DEFAULT_MODEL_DIR", "ModelDir", "RouterSpec", "default_model_dir", "general_model_dir",
           "live_model_path"]
