"""The built-in PyTorch training loop: data, models, optimizers, the Ray trainable."""
