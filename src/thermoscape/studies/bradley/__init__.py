"""Bradley, Gomez-Uribe & Vuyyuru, "Shift-curvature, SGD, and generalization"."""
