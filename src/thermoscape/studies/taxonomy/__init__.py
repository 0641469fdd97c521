"""Yang et al., "Taxonomizing local versus global structure in neural network loss landscapes"."""
