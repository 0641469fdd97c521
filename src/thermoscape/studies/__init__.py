"""One package per reproduced paper: its experiment glue, its claims and its figures. A study imports the shared
roles (``core``, ``data``, ``nets``, ``dynamics``, ``measure``, ``claims``, ``plotting``), never another study."""
