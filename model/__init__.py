"""The colorization model: colour maths, network, training and evaluation (no Qt)."""
