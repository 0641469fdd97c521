"""Jules et al., "Charting the topography of the neural network landscape with thermal-like noise" (primary study)."""
