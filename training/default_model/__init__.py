"""The committed default layout model (fp16 safetensors, config, tokenizer, calibration).

Loaded by ``extractors.inference`` when the registry has no live model. Trained on synthetic
documents only (no real document, so every real issuer is unseen by it): the corpus of
``training/configs/default.json`` plus ``extra_free_rtl2.json`` and ``extra_free_rtl3.json``, packed
with ``python -m training.packed pack`` / ``merge``, trained on a GPU with ``python -m training.packed
train`` and calibrated and measured with ``python -m training.packed finish``. ``intake_model.json``
holds the config, the dataset hash, the packed parts, the device it was trained on and the metrics.
"""
