"""Feng & Tu, "How neural networks find generalizable solutions: self-tuned annealing in deep learning"."""
