"""Measurements shared by the studies: loss-fluctuation statistics, curvature and spectra, similarity (CKA),
mode connectivity, flatness, PCA of trajectories, small statistics."""
