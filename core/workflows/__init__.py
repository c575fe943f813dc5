"""Jobs that combine training and inference: find the rest from a few examples, where to label next."""
