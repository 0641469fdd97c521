"""Data: offline readers (``readers``), tidy tables (``tables``) and tensor splits with recorded preprocessing (``tensors``)."""
