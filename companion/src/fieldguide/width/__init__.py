"""Part 2: signal propagation and infinite width (kernels of wide networks)."""
