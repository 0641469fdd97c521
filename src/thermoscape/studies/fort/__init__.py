"""Fort & Ganguli, "Emergent properties of the local geometry of neural loss landscapes"."""
