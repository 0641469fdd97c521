"""Networks and the loss landscapes on their flat parameter vectors: the batched functional MLP (``mlp``), the
module networks and their flat view (``networks``), small MLP/CNN classifiers (``small``), landscapes (``losses``)."""
