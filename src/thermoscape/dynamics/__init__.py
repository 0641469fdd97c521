"""Dynamics on a landscape: the Langevin engine (``langevin``), full-batch descent (``train``), minibatch SGD (``sgd``)."""
