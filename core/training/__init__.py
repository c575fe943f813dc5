"""Fine-tuning SAM 2 on labelled orthophotos: tiles and splits, prompts, losses, the training loop, reports."""
