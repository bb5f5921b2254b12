"""The committed default layout model (fp16 safetensors, config, tokenizer, calibration).

Loaded by ``extractors.inference`` when the registry has no live model. Trained by
``intake train --config training/configs/default.json``; ``intake_model.json`` holds its
config, dataset hash and metrics.
"""
